// 100 `echo task-N`, at most 4 running at once, each result printed as it
// completes: a ductile pool bounds the processes, C++20 coroutines on one
// io_context thread wait for them. (tokio's semaphore-bounded process pool,
// in C++.)
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <ductile/asio.hpp>
#include <string>

int main() {
  using namespace ductile;
  asio::io_context context;
  pool four(4);
  int finished = 0;
  int failed = 0;
  for (int n = 1; n <= 100; ++n) {
    auto task = [&, n]() -> asio::awaitable<void> {
      handle job = four.submit(cmd("echo", "task-" + std::to_string(n)).stdout_capture());
      const output o = co_await async_wait(job, asio::use_awaitable);
      std::printf("%3d: %s", ++finished, o.stdout_bytes.c_str());
    };
    // A failure arrives here, at the end of its coroutine.
    asio::co_spawn(context, task, [&](std::exception_ptr failure) {
      if (!failure) return;
      ++failed;
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "async_pool: %s\n", e.what());
      }
    });
  }
  context.run();
  std::printf("%d tasks finished, %d failed\n", finished, failed);
  return failed == 0 ? 0 : 1;
}
