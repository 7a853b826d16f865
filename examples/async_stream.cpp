// Streams a slow command's lines as they arrive while a timer ticks on the
// same thread, and gives up at a deadline: the `||` of the read and a timer
// kills the command (and everything in its process group) when the timer wins.
//
// usage: async_stream [seconds before giving up]   (default 2: the command needs 3)
#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/asio.hpp>
#include <string>

namespace {

using namespace ductile;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

asio::awaitable<void> stream(reader_handle& producer, clock_type::time_point start) {
  while (auto line = co_await async_read_line(producer, asio::use_awaitable))
    std::printf("[%5.2fs] line: %s\n", seconds_since(start), line->c_str());
}

asio::awaitable<void> tick(clock_type::time_point start) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(250ms);
    co_await timer.async_wait(asio::use_awaitable);
    std::printf("[%5.2fs] tick\n", seconds_since(start));
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace asio::experimental::awaitable_operators;
  const double give_up = argc > 1 ? std::atof(argv[1]) : 2.0;
  asio::io_context context;
  const auto start = clock_type::now();
  // A line every half second, six of them.
  reader_handle producer =
      sh("for i in 1 2 3 4 5 6; do echo \"step $i\"; sleep 0.5; done").new_process_group().reader();
  bool completed = false;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer deadline(
            co_await asio::this_coro::executor,
            std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(give_up)));
        const auto first =
            co_await (stream(producer, start) || tick(start) || deadline.async_wait(asio::use_awaitable));
        completed = first.index() == 0;
      },
      [](std::exception_ptr failure) {
        if (failure) std::rethrow_exception(failure);
      });
  context.run();
  std::printf("[%5.2fs] %s\n", seconds_since(start),
              completed ? "the command finished" : "deadline reached: the command was killed");
  return completed ? 0 : 1;
}
