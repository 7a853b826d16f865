"""Python's subprocess, with the same arguments and output as the C++ peers
(benchmarks/peers/workload.hpp): spawn COUNT PARENT_MIB | capture MIB."""
import asyncio
import subprocess
from concurrent.futures import ThreadPoolExecutor
import sys
import time

workload = sys.argv[1]
if workload == "spawn":
    count, parent = int(sys.argv[2]), int(sys.argv[3])
    memory = bytearray(b"\x01") * (parent << 20)  # touched: every byte written
    subprocess.run(["true"], check=True)
    start = time.monotonic()
    for _ in range(count):
        subprocess.run(["true"], check=True)
    print(f"{(time.monotonic() - start) / count:.9f}")
elif workload == "capture":
    size = int(sys.argv[2]) << 20
    start = time.monotonic()
    out = subprocess.run(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE).stdout
    elapsed = time.monotonic() - start
    if len(out) != size:
        sys.exit(f"captured {len(out)} bytes, not {size}")
    print(f"{elapsed:.9f}")
elif workload == "pipeline":
    count = int(sys.argv[2])

    def pipeline():
        a = subprocess.Popen(["true"], stdout=subprocess.PIPE)
        b = subprocess.Popen(["true"], stdin=a.stdout, stdout=subprocess.PIPE)
        a.stdout.close()
        c = subprocess.Popen(["true"], stdin=b.stdout)
        b.stdout.close()
        if a.wait() or b.wait() or c.wait():
            sys.exit("a stage failed")

    pipeline()
    start = time.monotonic()
    for _ in range(count):
        pipeline()
    print(f"{(time.monotonic() - start) / count:.9f}")
elif workload == "pool":
    count, parallel = int(sys.argv[2]), int(sys.argv[3])
    subprocess.run(["true"], check=True)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=parallel) as executor:
        for done in executor.map(lambda _: subprocess.run(["true"], check=True), range(count)):
            pass
    print(f"{(time.monotonic() - start) / count:.9f}")
elif workload == "async":
    count, parallel = int(sys.argv[2]), int(sys.argv[3])

    async def one(limit):
        async with limit:
            process = await asyncio.create_subprocess_exec("true")
            if await process.wait() != 0:
                sys.exit("a job failed")

    async def jobs():
        limit = asyncio.Semaphore(parallel)
        await asyncio.gather(*(one(limit) for _ in range(count)))

    subprocess.run(["true"], check=True)
    start = time.monotonic()
    asyncio.run(jobs())
    print(f"{(time.monotonic() - start) / count:.9f}")
else:
    sys.exit(f"unknown workload {workload}")
