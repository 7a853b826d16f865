// Boost.Process v2 (Boost 1.81's headers, with std::filesystem): a process
// on an io_context, and an asio::readable_pipe read to its end. run.sh puts
// boost_1_81_fixes.hpp before everything (-include).
#include <boost/asio/connect_pipe.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
#include <functional>
#include <memory>

#include "workload.hpp"

namespace asio = boost::asio;
namespace bp2 = boost::process::v2;

void peer::spawn_true() {
  asio::io_context context;
  bp2::process child(context, bp2::environment::find_executable("true"), std::vector<std::string>{});
  if (child.wait() != 0) std::abort();
}

std::size_t peer::capture(const std::vector<std::string>& argv) {
  asio::io_context context;
  asio::readable_pipe out(context);
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  bp2::process child(context, bp2::environment::find_executable(argv[0]), args, bp2::process_stdio{{}, out, {}});
  std::string bytes;
  boost::system::error_code error;
  asio::read(out, asio::dynamic_buffer(bytes), error);
  child.wait();
  return bytes.size();
}

void peer::pipeline_true() {
  asio::io_context context;
  asio::readable_pipe first_in(context), second_in(context);
  asio::writable_pipe first_out(context), second_out(context);
  asio::connect_pipe(first_in, first_out);
  asio::connect_pipe(second_in, second_out);
  const auto program = bp2::environment::find_executable("true");
  const std::vector<std::string> none;
  bp2::process a(context, program, none, bp2::process_stdio{{}, first_out, {}});
  bp2::process b(context, program, none, bp2::process_stdio{first_in, second_out, {}});
  bp2::process c(context, program, none, bp2::process_stdio{second_in, {}, {}});
  first_in.close();
  first_out.close();
  second_in.close();
  second_out.close();
  if (a.wait() != 0 || b.wait() != 0 || c.wait() != 0) std::abort();
}

// No pool in Boost.Process either: threads, each with its own io_context.
void peer::pool(long count, int parallel) { pool_of_threads(count, parallel); }

// async_wait on one io_context, the next process started from each handler.
void peer::async_jobs(long count, int parallel) {
  asio::io_context context;
  const auto program = bp2::environment::find_executable("true");
  const std::vector<std::string> none;
  long started = 0;
  std::function<void()> next = [&] {
    if (started == count) return;
    ++started;
    auto child = std::make_shared<bp2::process>(context, program, none);
    child->async_wait([child, &next](boost::system::error_code error, int code) {
      if (error || code != 0) std::abort();
      next();
    });
  };
  for (int i = 0; i < parallel; ++i) next();
  context.run();
}
