// 1,000 short commands, 100 at a time: async_run on one io_context thread,
// against the blocking pool and against Python's asyncio, alternating in
// rounds in one run.
//
// usage: async_throughput [jobs] [concurrency] [rounds]
#include <asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <ductile/asio.hpp>
#include <functional>
#include <string>
#include <vector>

#include "paired.hpp"

namespace {

using namespace ductile;

// Keeps `concurrency` async_runs in flight until `jobs` have finished.
void with_async(int jobs, int concurrency) {
  asio::io_context context;
  int started = 0;
  int failed = 0;
  const expression job = cmd("true");
  std::function<void()> next = [&] {
    if (started == jobs) return;
    ++started;
    async_run(context.get_executor(), job, [&](std::exception_ptr e, output) {
      if (e) ++failed;
      next();
    });
  };
  for (int i = 0; i < concurrency; ++i) next();
  context.run();
  if (failed != 0) {
    std::fprintf(stderr, "%d jobs failed\n", failed);
    std::exit(1);
  }
}

// The handles are dropped, as a build tool writes it: the pool owns the jobs.
// Its last progress report says whether every one of them really ran.
void with_pool(int jobs, int concurrency) {
  pool workers(static_cast<std::size_t>(concurrency));
  progress last;
  workers.on_progress([&](const progress& now) { last = now; });
  for (int i = 0; i < jobs; ++i) workers.submit(cmd("true"));
  workers.wait_all();
  if (last.done != static_cast<std::size_t>(jobs) || last.failed != 0) {
    std::fprintf(stderr, "the pool finished %zu jobs of %d, %zu failed\n", last.done, jobs, last.failed);
    std::exit(1);
  }
}

// What asyncio takes for the same work, timed inside the interpreter so its
// start-up does not count.
const char* const asyncio_program = R"(
import asyncio, sys, time
jobs, concurrency = int(sys.argv[1]), int(sys.argv[2])
async def one(limit):
    async with limit:
        process = await asyncio.create_subprocess_exec("true")
        if await process.wait() != 0:
            sys.exit("a job failed")
async def main():
    limit = asyncio.Semaphore(concurrency)
    await asyncio.gather(*(one(limit) for _ in range(jobs)))
start = time.monotonic()
asyncio.run(main())
print(time.monotonic() - start)
)";

double with_asyncio(int jobs, int concurrency) {
  return std::stod(cmd("python3", "-c", asyncio_program, jobs, concurrency).read());
}

}  // namespace

int main(int argc, char** argv) {
  const int jobs = bench::argument(argc, argv, 1, 1000);
  const int concurrency = bench::argument(argc, argv, 2, 100);
  const int rounds = bench::argument(argc, argv, 3, 7);
  const bool python = which("python3").has_value();
  std::vector<double> async_times, pool_times, asyncio_times, to_pool, to_asyncio;
  with_async(jobs / 10, concurrency);  // warm-up
  for (int round = 0; round < rounds; ++round) {
    // The order turns every round, so that drift hits each alike.
    double a = 0, p = 0, y = 0;
    for (int turn = 0; turn < 3; ++turn) switch ((round + turn) % 3) {
        case 0: a = bench::time_of([&] { with_async(jobs, concurrency); }); break;
        case 1: p = bench::time_of([&] { with_pool(jobs, concurrency); }); break;
        case 2: y = python ? with_asyncio(jobs, concurrency) : 0; break;
      }
    async_times.push_back(a);
    pool_times.push_back(p);
    to_pool.push_back(a / p);
    if (python) {
      asyncio_times.push_back(y);
      to_asyncio.push_back(a / y);
    }
  }
  const auto per_second = [&](const std::vector<double>& times) { return jobs / bench::median(times); };
  std::printf("%d jobs of `true`, %d at a time, %d rounds\n", jobs, concurrency, rounds);
  std::printf("async_run on one io_context  %7.0f jobs/s\n", per_second(async_times));
  std::printf("blocking pool                %7.0f jobs/s   time ratio async/pool    %.3f (min %.3f, max %.3f)\n",
              per_second(pool_times), bench::median(to_pool), *std::min_element(to_pool.begin(), to_pool.end()),
              *std::max_element(to_pool.begin(), to_pool.end()));
  if (python)
    std::printf("python asyncio               %7.0f jobs/s   time ratio async/asyncio %.3f (min %.3f, max %.3f)\n",
                per_second(asyncio_times), bench::median(to_asyncio),
                *std::min_element(to_asyncio.begin(), to_asyncio.end()),
                *std::max_element(to_asyncio.begin(), to_asyncio.end()));
  return 0;
}
