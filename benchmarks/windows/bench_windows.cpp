// ductile on Windows against the raw calls a program would make itself, in
// paired rounds (alternating which goes first), in one process:
//   spawn+wait   cmd(helper, "exit", "0").run()  vs CreateProcessW + WaitForSingleObject
//   pipeline     echo | cat | cat, read()        vs three CreateProcessW on hand-wired pipes
//   capture      256 MiB of stdout captured      vs a ReadFile loop on an anonymous pipe
// Prints the median time of each and the median of the per-round ratios.
// Under Wine the figures are indicative only.
#include <windows.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ductile/ductile.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

std::wstring helper_path() {
  wchar_t self[MAX_PATH];
  const DWORD size = GetModuleFileNameW(nullptr, self, MAX_PATH);
  return (std::filesystem::path(std::wstring(self, size)).parent_path() / "helper.exe").wstring();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

template <class F>
double time_of(F&& f) {
  const auto start = clock_type::now();
  f();
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

template <class Ours, class Raw>
void compare(const char* name, int rounds, int operations, Ours&& ours, Raw&& raw) {
  ours();
  raw();
  std::vector<double> a, b, ratio;
  for (int round = 0; round < rounds; ++round) {
    double x, y;
    if (round % 2 == 0) {
      x = time_of(ours);
      y = time_of(raw);
    } else {
      y = time_of(raw);
      x = time_of(ours);
    }
    a.push_back(x / operations);
    b.push_back(y / operations);
    ratio.push_back(x / y);
  }
  std::printf("%-12s ductile %9.3f ms  raw %9.3f ms  ratio %.2f  (%d rounds of %d)\n", name, median(a) * 1e3,
              median(b) * 1e3, median(ratio), rounds, operations);
  std::fflush(stdout);
}

PROCESS_INFORMATION start_raw(const std::wstring& program, std::wstring line, HANDLE in, HANDLE out, HANDLE err) {
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = in;
  startup.hStdOutput = out;
  startup.hStdError = err;
  PROCESS_INFORMATION made{};
  if (!CreateProcessW(program.c_str(), line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &startup, &made)) {
    std::fprintf(stderr, "CreateProcessW failed: %lu\n", GetLastError());
    std::exit(1);
  }
  CloseHandle(made.hThread);
  return made;
}

void inheritable_pipe(HANDLE& read, HANDLE& write) {
  SECURITY_ATTRIBUTES inherit{sizeof inherit, nullptr, TRUE};
  CreatePipe(&read, &write, &inherit, 64 * 1024);
}

std::string read_all(HANDLE from) {
  std::string text;
  char buffer[64 * 1024];
  DWORD got = 0;
  while (ReadFile(from, buffer, sizeof buffer, &got, nullptr) && got > 0) text.append(buffer, got);
  return text;
}

}  // namespace

int main() {
  const std::wstring helper = helper_path();
  const std::wstring quoted = L"\"" + helper + L"\"";
  const std::filesystem::path helper_file(helper);
  HANDLE null = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                            OPEN_EXISTING, 0, nullptr);
  SetHandleInformation(null, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);

  constexpr int spawns = 20;
  compare(
      "spawn+wait", 10, spawns,
      [&] {
        for (int i = 0; i < spawns; ++i) ductile::cmd(helper_file, "exit", "0").stdin_null().stdout_null().run();
      },
      [&] {
        for (int i = 0; i < spawns; ++i) {
          PROCESS_INFORMATION p = start_raw(helper, quoted + L" exit 0", null, null, null);
          WaitForSingleObject(p.hProcess, INFINITE);
          DWORD code = 0;
          GetExitCodeProcess(p.hProcess, &code);
          CloseHandle(p.hProcess);
        }
      });

  constexpr int pipelines = 5;
  compare(
      "pipeline", 10, pipelines,
      [&] {
        for (int i = 0; i < pipelines; ++i) {
          using ductile::cmd;
          const auto text =
              (cmd(helper_file, "echo", "a", "b") | cmd(helper_file, "cat") | cmd(helper_file, "cat")).read();
          if (text != "a b") std::exit(2);
        }
      },
      [&] {
        for (int i = 0; i < pipelines; ++i) {
          HANDLE r1, w1, r2, w2, r3, w3;
          inheritable_pipe(r1, w1);
          inheritable_pipe(r2, w2);
          inheritable_pipe(r3, w3);
          // The parent's ends must not reach the children.
          SetHandleInformation(r3, HANDLE_FLAG_INHERIT, 0);
          PROCESS_INFORMATION a = start_raw(helper, quoted + L" echo a b", null, w1, null);
          CloseHandle(w1);
          PROCESS_INFORMATION b = start_raw(helper, quoted + L" cat", r1, w2, null);
          CloseHandle(r1);
          CloseHandle(w2);
          PROCESS_INFORMATION c = start_raw(helper, quoted + L" cat", r2, w3, null);
          CloseHandle(r2);
          CloseHandle(w3);
          const std::string text = read_all(r3);
          CloseHandle(r3);
          for (HANDLE p : {a.hProcess, b.hProcess, c.hProcess}) {
            WaitForSingleObject(p, INFINITE);
            CloseHandle(p);
          }
          if (text != "a b\n") std::exit(3);
        }
      });

  const std::string size = std::to_string(256ull << 20);
  const std::wstring wide_size(size.begin(), size.end());
  compare(
      "capture", 5, 1,
      [&] {
        const auto out = ductile::cmd(helper_file, "bytes", size).stdout_capture().run();
        if (out.stdout_bytes.size() != (256ull << 20)) std::exit(4);
      },
      [&] {
        HANDLE r, w;
        inheritable_pipe(r, w);
        SetHandleInformation(r, HANDLE_FLAG_INHERIT, 0);
        PROCESS_INFORMATION p = start_raw(helper, quoted + L" bytes " + wide_size, null, w, null);
        CloseHandle(w);
        std::string text;
        text.reserve(256ull << 20);
        char* buffer = new char[1 << 20];
        DWORD got = 0;
        while (ReadFile(r, buffer, 1 << 20, &got, nullptr) && got > 0) text.append(buffer, got);
        delete[] buffer;
        CloseHandle(r);
        WaitForSingleObject(p.hProcess, INFINITE);
        CloseHandle(p.hProcess);
        if (text.size() != (256ull << 20)) std::exit(5);
      });
  return 0;
}
