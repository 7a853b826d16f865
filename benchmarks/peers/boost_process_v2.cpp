// Boost.Process v2 (Boost 1.81's headers, with std::filesystem): a process
// on an io_context, and an asio::readable_pipe read to its end. run.sh puts
// boost_1_81_fixes.hpp before everything (-include).
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>

#include "workload.hpp"

namespace asio = boost::asio;
namespace bp2 = boost::process::v2;

void peer::spawn_true() {
  asio::io_context context;
  bp2::process child(context, bp2::environment::find_executable("true"), std::vector<std::string>{});
  child.wait();
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
