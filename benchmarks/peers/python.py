"""Python's subprocess, with the same arguments and output as the C++ peers
(benchmarks/peers/workload.hpp): spawn COUNT PARENT_MIB | capture MIB."""
import subprocess
import sys
import time

workload = sys.argv[1]
if workload == "spawn":
    count, parent = int(sys.argv[2]), int(sys.argv[3])
    memory = bytearray(b"\x01") * (parent << 20)  # touched: every byte written
    subprocess.run(["true"])
    start = time.monotonic()
    for _ in range(count):
        subprocess.run(["true"])
    print(f"{(time.monotonic() - start) / count:.9f}")
elif workload == "capture":
    size = int(sys.argv[2]) << 20
    start = time.monotonic()
    out = subprocess.run(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE).stdout
    elapsed = time.monotonic() - start
    if len(out) != size:
        sys.exit(f"captured {len(out)} bytes, not {size}")
    print(f"{elapsed:.9f}")
else:
    sys.exit(f"unknown workload {workload}")
