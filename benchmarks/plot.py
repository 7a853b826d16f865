#!/usr/bin/env python3
"""Draws the benchmarks' output as SVG plots.

usage: plot.py RESULTS [OUT=docs]

RESULTS is a directory filled by benchmarks/plot_data.sh. Three plots go to
OUT, each titled with the machine and date of the run:
  bench-spawn-rss.svg       time per spawn against parent resident memory:
                            ductile, raw clone and fork+exec
  bench-live-children.svg   parent CPU per child exit against live children:
                            ductile, and the poll and epoll baselines
  bench-capture.svg         capture throughput against size: ductile and the
                            realloc baseline, with and without huge pages
"""

import pathlib
import re
import sys

SPAWN = re.compile(
    r"^(spawn|fork\+exec) true, (\d+) MiB parent\s+\S+\s+([\d.]+) (us|ms)\s+baseline\s+([\d.]+) (us|ms)\s+"
    r"ratio ([\d.]+)\s+\(min ([\d.]+), max ([\d.]+)")
LIVE = re.compile(
    r"^(ductile|poll|epoll):\s+(\d+) children started in [\d.]+ s \(([\d.]+) ms CPU each\).*"
    r"\(([\d.]+) ms per exit\); start\+wait ([\d.]+) s")
CAPTURE = re.compile(r"^capture (\d+) MiB\s+ductile\s+([\d.]+) (us|ms)\s+baseline\s+([\d.]+) (us|ms)\s+ratio ([\d.]+)")


def milliseconds(value, unit):
    return float(value) / 1000 if unit == "us" else float(value)


def machine(results):
    fields = {}
    path = results / "machine.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition(": ")
            fields[key] = value
    return "{cpu}, {cores} cores, {memory}, Linux {kernel}; {date}".format(
        **{k: fields.get(k, "?") for k in ("cpu", "cores", "memory", "kernel", "date")})


def lines_of(results, pattern):
    for path in sorted(results.glob(pattern)):
        yield path, path.read_text().splitlines()


def spawn_points(results):
    ductile, raw, forked = {}, {}, {}
    for _, lines in lines_of(results, "spawn-*.txt"):
        for line in lines:
            m = SPAWN.match(line)
            if not m:
                continue
            kind, mib = m.group(1), int(m.group(2))
            ours = milliseconds(m.group(3), m.group(4)) * 1000
            base = milliseconds(m.group(5), m.group(6)) * 1000
            (ductile if kind == "spawn" else forked)[mib] = ours
            raw.setdefault(mib, base)
    return ductile, raw, forked


def live_points(results):
    series = {"ductile": {}, "poll": {}, "epoll": {}}
    for _, lines in lines_of(results, "live-*.txt"):
        for line in lines:
            m = LIVE.match(line)
            if m:
                series[m.group(1)][int(m.group(2))] = float(m.group(4))
    return series


def capture_points(results):
    series = {"ductile": {}, "baseline": {}, "ductile, no huge pages": {}, "baseline, no huge pages": {}}
    for path, lines in lines_of(results, "capture-*.txt"):
        no_thp = path.stem.endswith("no-thp")
        for line in lines:
            m = CAPTURE.match(line)
            if not m:
                continue
            mib = int(m.group(1))
            suffix = ", no huge pages" if no_thp else ""
            series["ductile" + suffix][mib] = mib / (milliseconds(m.group(2), m.group(3)) / 1000)
            series["baseline" + suffix][mib] = mib / (milliseconds(m.group(4), m.group(5)) / 1000)
            break  # the first comparison of a run is the plain one
    return series


def draw(plt, title, subtitle, xlabel, ylabel, series, out, logy=True):
    figure, axes = plt.subplots(figsize=(7.5, 4.5))
    for name, points in series.items():
        if not points:
            continue
        xs = sorted(points)
        axes.plot(xs, [points[x] for x in xs], marker="o", label=name)
    axes.set_xscale("log")
    if logy:
        axes.set_yscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title + "\n" + subtitle, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(out, format="svg", metadata={"Date": None})
    plt.close(figure)
    print("wrote", out)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("svg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot.py: matplotlib is not installed (Debian: apt install python3-matplotlib; "
              "elsewhere: pip install matplotlib); nothing drawn", file=sys.stderr)
        return 1
    results = pathlib.Path(argv[1])
    out = pathlib.Path(argv[2] if len(argv) > 2 else "docs")
    out.mkdir(parents=True, exist_ok=True)
    subtitle = machine(results)

    ductile, raw, forked = spawn_points(results)
    draw(plt, "Time per spawn of true against parent resident memory", subtitle, "parent RSS (MiB)",
         "microseconds per spawn+wait", {"ductile cmd().run()": ductile, "raw clone(CLONE_VM|CLONE_VFORK)": raw,
                                         "fork+exec": forked}, out / "bench-spawn-rss.svg")
    live = live_points(results)
    draw(plt, "Parent CPU per child exit against live children", subtitle, "children alive at once",
         "ms of parent CPU per exit", {"ductile": live["ductile"], "poll() over pidfds": live["poll"],
                                       "epoll over pidfds": live["epoll"]}, out / "bench-live-children.svg")
    draw(plt, "Capturing stdout: throughput against size", subtitle, "bytes captured (MiB)", "MiB/s",
         capture_points(results), out / "bench-capture.svg", logy=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
