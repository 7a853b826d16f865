// Runs `helper echo traced` with its output thrown away, for the test that
// DUCTILE_TRACE=1 in the environment switches tracing on.
#include <windows.h>

#include <ductile/ductile.hpp>
#include <filesystem>

int main() {
  wchar_t self[MAX_PATH];
  const DWORD size = GetModuleFileNameW(nullptr, self, MAX_PATH);
  const auto helper = std::filesystem::path(std::wstring(self, size)).parent_path() / "helper.exe";
  ductile::cmd(helper, "echo", "traced").stdout_null().run();
  return 0;
}
