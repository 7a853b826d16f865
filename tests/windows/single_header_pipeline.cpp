// The single header alone, with no library to link (every definition inline:
// DUCTILE_HEADER_ONLY in meson.build), runs a pipeline on
// Windows: helper.exe's echo through two cats.
#include <windows.h>

#include <cstdio>
#include <ductile/ductile.hpp>
#include <filesystem>

int main() {
  wchar_t self[MAX_PATH];
  const DWORD size = GetModuleFileNameW(nullptr, self, MAX_PATH);
  const auto helper = std::filesystem::path(std::wstring(self, size)).parent_path() / "helper.exe";
  using ductile::cmd;
  const std::string out =
      (cmd(helper, "echo", "through", "a pipeline") | cmd(helper, "cat") | cmd(helper, "cat")).read();
  std::printf("%s\n", out.c_str());
  return out == "through a pipeline" ? 0 : 1;
}
