// A parent that starts `helper sleep 60000` (with kill_on_parent_exit() when
// told "bound"), prints the child's pid and exits without waiting for it.
#include <windows.h>

#include <cstdio>
#include <cstring>
#include <ductile/ductile.hpp>
#include <filesystem>

int main(int argc, char** argv) {
  wchar_t self[MAX_PATH];
  const DWORD size = GetModuleFileNameW(nullptr, self, MAX_PATH);
  const auto helper = std::filesystem::path(std::wstring(self, size)).parent_path() / "helper.exe";
  auto sleeper = ductile::cmd(helper, "sleep", "60000").stdout_null();
  if (argc > 1 && std::strcmp(argv[1], "bound") == 0) sleeper = sleeper.kill_on_parent_exit();
  auto h = sleeper.start();
  std::printf("%lu\n", static_cast<unsigned long>(h.pids().at(0)));
  std::fflush(stdout);
  h.detach();
  std::_Exit(0);
}
