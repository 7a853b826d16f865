// The Windows twin of behaviour/test_script.cpp, for what Windows shares:
// script_main's exit statuses and the order of a script's output and its
// children's. Interrupts are console control events, which Wine 8 does not
// deliver (docs/windows.md); kill_on_parent_exit() is in test_runs.cpp.
#include "windows_support.hpp"

using namespace ductile;

namespace {
expression script_host(const std::string& mode, const std::string& argument = "") {
  const auto host = test::own_directory() / "script_host.exe";
  return argument.empty() ? cmd(host, mode) : cmd(host, mode, argument);
}

exit_status::code_type host_status(const std::string& mode, const std::string& argument = "") {
  return *script_host(mode, argument).stderr_null().unchecked().run().status.code();
}
}  // namespace

TEST_CASE("script_main returns the status a shell would, and a crash's own code") {
  CHECK(host_status("exit", "3") == 3u);
  CHECK(host_status("exit", "300") == 300u);  // Windows codes are not cut to 8 bits
  CHECK(host_status("crash") == 0xC0000005u);
  CHECK(host_status("missing") == 127u);
  CHECK(host_status("other") == 1u);
  CHECK(host_status("value") == 5u);
  // The message is one line naming the command, on stderr (in text mode: CR LF).
  const output o = script_host("exit", "4").stderr_capture().unchecked().run();
  const std::string line = test::without_carriage_returns(o.stderr_bytes);
  CHECK(line == "command " + to_string(test::win_helper("exit", "4")) + " failed: exit code 4\n");
  CHECK(test::children().empty());
}

TEST_CASE("output the parent buffered comes before its children's on the same stdout") {
  // The host's stdout is in text mode: CR LF.
  CHECK(test::without_carriage_returns(script_host("order").read()) ==
        "tagged 0\nchild 0\ntagged 1\nchild 1\ntagged 2\nchild 2");
}
