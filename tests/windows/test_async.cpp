// <ductile/asio.hpp> on Windows: the waits are object_handles on the run's
// completion event and on the event set while a reader's pipe has bytes.
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>
#include <ductile/asio.hpp>
#include <future>

#include "windows_support.hpp"

using namespace ductile;
using namespace std::chrono_literals;
using test::win_helper;

TEST_CASE("async_run and async_read with callbacks on one io_context thread") {
  asio::io_context io;
  std::optional<output> ran;
  std::optional<std::string> read;
  std::exception_ptr failed;
  async_run(io.get_executor(), win_helper("echo", "run"), [&](std::exception_ptr e, output o) {
    CHECK_FALSE(e);
    ran = std::move(o);
  });
  async_read(io.get_executor(), win_helper("echo", "read"), [&](std::exception_ptr e, std::string text) {
    CHECK_FALSE(e);
    read = std::move(text);
  });
  async_run(io.get_executor(), win_helper("exit", "3"), [&](std::exception_ptr e, output) { failed = e; });
  io.run();
  REQUIRE(ran.has_value());
  CHECK(ran->status.success());
  CHECK(read == std::optional<std::string>("read"));
  REQUIRE(failed);
  CHECK_THROWS_AS(std::rethrow_exception(failed), status_error);
  CHECK(test::children().empty());
}

TEST_CASE("40 async_runs on one io_context thread, each completion starting the next") {
  asio::io_context io;
  int done = 0;
  std::function<void(int)> start = [&](int i) {
    async_read(io.get_executor(), win_helper("echo", std::to_string(i)), [&, i](std::exception_ptr e, std::string s) {
      CHECK_FALSE(e);
      CHECK(s == std::to_string(i));
      ++done;
      if (i + 4 < 40) start(i + 4);
    });
  };
  for (int i = 0; i < 4; ++i) start(i);
  io.run();
  CHECK(done == 40);
}

TEST_CASE("async_wait and async_read_line with futures: lines as they come") {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  auto h = win_helper("sleep", "200").start();
  auto waited = async_wait(h, asio::bind_executor(io, asio::use_future));
  CHECK(waited.get().status.success());
  auto r = win_helper("lines", "3").reader();
  std::vector<std::string> lines;
  for (;;) {
    auto line = async_read_line(r, asio::bind_executor(io, asio::use_future)).get();
    if (!line) break;
    lines.push_back(*line);
  }
  CHECK(lines == std::vector<std::string>{"line 1", "line 2", "line 3"});
  guard.reset();
  runner.join();
}

TEST_CASE("cancellation: terminal kills and reaps, partial ends the job and the real status comes") {
  asio::io_context io;
  asio::cancellation_signal signal;
  std::exception_ptr aborted;
  async_run(io.get_executor(), win_helper("grandchild"),
            asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, output) { aborted = e; }));
  // Posted after the operation's first step, which waits on the run's end.
  asio::post(io, [&] { asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); }); });
  io.run();
  REQUIRE(aborted);
  try {
    std::rethrow_exception(aborted);
  } catch (const std::system_error& e) {
    CHECK(e.code() == asio::error::operation_aborted);
  }
  CHECK(test::eventually([] { return test::children().empty(); }));

  io.restart();
  std::optional<output> ended;
  async_run(io.get_executor(), win_helper("sleep", "30000").unchecked(),
            asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, output o) {
              CHECK_FALSE(e);
              ended = std::move(o);
            }));
  asio::post(io, [&] { asio::post(io, [&] { signal.emit(asio::cancellation_type::partial); }); });
  io.run();
  REQUIRE(ended.has_value());
  CHECK(ended->status.code() == exit_status::code_type{1});
}

TEST_CASE("cancelling async_wait only stops waiting: the process runs on") {
  asio::io_context io;
  asio::cancellation_signal signal;
  auto h = win_helper("sleep", "30000").start();
  std::exception_ptr aborted;
  async_wait(h, asio::bind_cancellation_slot(
                    signal.slot(), asio::bind_executor(io, [&](std::exception_ptr e, output) { aborted = e; })));
  asio::post(io, [&] { asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); }); });
  io.run();
  CHECK(aborted);
  CHECK(h.try_wait() == nullptr);
  h.kill();
}
