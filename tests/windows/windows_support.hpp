#pragma once
// What the Windows suites share: the helper program built beside them
// (helper.cpp), and processes looked at by pid.

#include "portable_support.hpp"
// After <windows.h>, which portable_support.hpp includes.
#include <shellapi.h>

namespace test {

// The directory this test program lives in, where the build puts helper.exe.
inline fs::path own_directory() {
  wchar_t self[MAX_PATH];
  const DWORD size = GetModuleFileNameW(nullptr, self, MAX_PATH);
  return fs::path(std::wstring(self, size)).parent_path();
}

inline fs::path windows_helper() { return own_directory() / "helper.exe"; }

template <class... Args>
ductile::expression win_helper(const Args&... args) {
  return ductile::cmd(windows_helper(), args...);
}

// Whether the process `pid` still runs.
inline bool running(unsigned long pid) {
  HANDLE process = OpenProcess(SYNCHRONIZE, FALSE, pid);
  if (process == nullptr) return false;
  const bool alive = WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
  CloseHandle(process);
  return alive;
}

// Whether this is Wine, which reads an ended process's memory from its Unix
// process: gone by then, or not yet, as it happens. Windows keeps it with
// the process object.
inline bool under_wine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// `text` with every CR left out, as a text-mode stream's CR LF reads back.
inline std::string without_carriage_returns(const std::string& text) {
  std::string plain;
  for (const char c : text)
    if (c != '\r') plain += c;
  return plain;
}

// The arguments `helper argv` printed, NUL-terminated each.
inline std::vector<std::string> split_nul(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\0', start)) != std::string::npos; start = end + 1)
    parts.push_back(text.substr(start, end - start));
  return parts;
}

}  // namespace test
