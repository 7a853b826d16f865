// A script that uses ductile, for what only a whole process shows: the exit
// statuses script_main() gives, and output order.
//
//   script_host exit N | crash | missing | other | value | order
#include <windows.h>

#include <cstdio>
#include <ductile/ductile.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>

using namespace ductile;

namespace {
expression helper(const std::string& what, const std::string& argument = "") {
  wchar_t self[MAX_PATH];
  const DWORD size = GetModuleFileNameW(nullptr, self, MAX_PATH);
  const auto path = std::filesystem::path(std::wstring(self, size)).parent_path() / "helper.exe";
  return argument.empty() ? cmd(path, what) : cmd(path, what, argument);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string mode = argv[1];
  if (mode == "exit") return script_main([&] { helper("exit", argv[2]).run(); });
  if (mode == "crash") return script_main([] { helper("crash").run(); });
  if (mode == "missing") return script_main([] { cmd("no-such-program-for-script-host").run(); });
  if (mode == "other") return script_main([]() -> int { throw std::runtime_error("plain failure"); });
  if (mode == "value") return script_main([] { return 5; });
  if (mode == "order") {
    // Buffered by the C runtime (a pipe is not a console), and flushed by
    // ductile before each child that shares the stream.
    for (int i = 0; i < 3; ++i) {
      std::printf("tagged %d\n", i);
      helper("echo", "child " + std::to_string(i)).run();
    }
    return 0;
  }
  return 2;
}
