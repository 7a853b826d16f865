#!/usr/bin/env python3
"""Writes single_include/ductile/ductile.hpp: the public headers, then the
implementation from lib/, each project file inlined once. System and
third-party includes are kept as they are.

The implementation is compiled only where the includer asks for it: one
translation unit defines DUCTILE_IMPLEMENTATION (ordinary definitions, as in
the compiled library), or every one defines DUCTILE_HEADER_ONLY (every
out-of-line definition made `inline` through DUCTILE_INLINE). Without either
an include carries the declarations alone.

Beside OUTPUT it also writes caps.hpp, users.hpp, proc.hpp and daemon.hpp: those modules alone,
usable without fmt and range-v3; and asio.hpp and boost_asio.hpp, the
asynchronous operations over the single header.

usage: tools/amalgamate.py [OUTPUT]   (default: the committed single header)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PUBLIC = ROOT / "include" / "ductile"
DEFAULT_OUTPUT = ROOT / "single_include" / "ductile" / "ductile.hpp"
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PRAGMA_ONCE = re.compile(r"^\s*#\s*pragma\s+once\b")


def meson_facts():
    """The version and the library sources, in build order, from meson.build."""
    text = (ROOT / "meson.build").read_text()
    version = re.search(r"version\s*:\s*'([^']+)'", text).group(1)
    sources = re.findall(r"'(lib/[\w/]+\.cpp)'", text)
    return version, [ROOT / source for source in sources]


def module_sources(name):
    """The sources of one module, lib/<name>/, in build order."""
    _, sources = meson_facts()
    return [source for source in sources if source.parent == ROOT / "lib" / name]


def resolve(kind, name, including):
    """The project file an include names, or None for system and third-party ones."""
    if kind == "<" and name.startswith("ductile/"):
        candidate = PUBLIC / name[len("ductile/"):]
        return candidate if candidate.exists() else None
    if kind == '"':
        # Beside the including file, else from lib/ (the implementation names
        # its headers by folder: "run/execution.hpp").
        for candidate in (including.parent / name, ROOT / "lib" / name):
            if candidate.exists():
                return candidate
        return None
    return None


def inline(path, seen, out, keep=()):
    """Inlines `path` and the project files it includes, except those in
    `keep`, whose #include lines stay as they are."""
    path = path.resolve()
    if path in seen:
        return
    seen.add(path)
    relative = str(path.relative_to(ROOT))
    # Each file is guarded on its own, so the generated headers can be included
    # together (ductile.hpp also carries caps and users).
    guard = "DUCTILE_INLINED_" + re.sub(r"[^A-Za-z0-9]", "_", relative).upper()
    out += [f"// ---- {relative}", f"#ifndef {guard}", f"#define {guard}"]
    for line in path.read_text().splitlines():
        if PRAGMA_ONCE.match(line):
            continue
        match = INCLUDE.match(line)
        if match:
            target = resolve(match.group(1), match.group(2), path)
            if target is not None and target.resolve() not in keep:
                inline(target, seen, out, keep)
                continue
        out.append(line)
    out.append(f"#endif  // {guard}")


# The first lines of every generated header that carries an implementation.
# There is no #pragma once: a translation unit may include the header for its
# declarations (through a header of its own) before it defines
# DUCTILE_IMPLEMENTATION and includes it again. Every inlined file has a guard
# of its own, so a second include adds only what the first left out.
MODES = [
    "//",
    "// Every file that includes this header sees the declarations. The definitions",
    "// are compiled where the includer asks for them:",
    "//   - in one translation unit of the program, which defines DUCTILE_IMPLEMENTATION",
    "//     before it includes this header (a program without one fails to link with",
    "//     undefined references to ductile's functions);",
    "//   - or in every one, inline, where each defines DUCTILE_HEADER_ONLY (a",
    "//     one-file program: pass -DDUCTILE_HEADER_ONLY). It wins over",
    "//     DUCTILE_IMPLEMENTATION, so a build flag can switch a whole program.",
    "// A program uses one of the two ways in all its files.",
]


def implementation(name, sources, seen):
    """The lines that compile `sources` where the includer asks for them:
    inline under DUCTILE_HEADER_ONLY, ordinary under DUCTILE_IMPLEMENTATION."""
    done = f"DUCTILE_{name.upper()}_IMPLEMENTATION_INCLUDED"
    out = [
        "",
        "// ---- implementation: compiled under DUCTILE_IMPLEMENTATION or DUCTILE_HEADER_ONLY",
        f"#if (defined(DUCTILE_IMPLEMENTATION) || defined(DUCTILE_HEADER_ONLY)) && !defined({done})",
        f"#define {done} 1",
        "#ifdef DUCTILE_HEADER_ONLY",
        "#define DUCTILE_INLINE inline",
        "#else",
        "#define DUCTILE_INLINE",
        "#endif",
    ]
    for source in sources:
        inline(source, seen, out)
    out += ["#undef DUCTILE_INLINE", f"#endif  // {done}", ""]
    return out


def generate_module(name):
    """caps, users, proc or daemon alone: its header and source, usable without fmt and range-v3."""
    version, _ = meson_facts()
    out = [
        f"// ductile {version}: <ductile/{name}.hpp> alone, standard library and libc only.",
        "// Single-header form. GENERATED by tools/amalgamate.py: do not edit.",
        *MODES,
    ]
    seen = set()
    inline(PUBLIC / f"{name}.hpp", seen, out)
    out += implementation(name, module_sources(name), seen)
    return "\n".join(out)


def generate_async(name):
    """asio or boost_asio: the flavour header and the operations it shares,
    over <ductile/ductile.hpp>, which stays an include (the single header
    beside it, or the installed one)."""
    version, _ = meson_facts()
    out = [
        f"// ductile {version}: <ductile/{name}.hpp>, the asynchronous operations for "
        + ("Boost.Asio." if name == "boost_asio" else "standalone Asio."),
        "// Single-header form. GENERATED by tools/amalgamate.py: do not edit.",
        "#pragma once",
    ]
    inline(PUBLIC / f"{name}.hpp", set(), out, keep={(PUBLIC / "ductile.hpp").resolve()})
    out.append("")
    return "\n".join(out)


def write_if_changed(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def generate():
    version, sources = meson_facts()
    out = [
        "// ductile " + version + ": run programs the way a shell does, as typed values.",
        "// Single-header form. GENERATED by tools/amalgamate.py from include/ and lib/: do not edit.",
        "// Needs the fmt and range-v3 headers on the include path (fmt may be header-only).",
        *MODES,
        "#ifndef DUCTILE_SINGLE_HEADER",
        "#define DUCTILE_SINGLE_HEADER 1",
        "#endif",
    ]
    seen = set()
    inline(PUBLIC / "ductile.hpp", seen, out)
    # The daemon module is <ductile/daemon.hpp>'s alone, not the umbrella's.
    out += implementation("ductile", [source for source in sources if source.parent != ROOT / "lib" / "daemon"], seen)
    return "\n".join(out)


def main(argv):
    if len(argv) > 1 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    output = pathlib.Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    write_if_changed(output, generate())
    # Beside it: caps.hpp, users.hpp and proc.hpp, which need neither fmt nor range-v3.
    for name in ("caps", "users", "proc", "daemon"):
        write_if_changed(output.parent / f"{name}.hpp", generate_module(name))
    # And the Asio flavours, which need Asio (or Boost) besides.
    for name in ("asio", "boost_asio"):
        write_if_changed(output.parent / f"{name}.hpp", generate_async(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
