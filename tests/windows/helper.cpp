// The programs the Windows suites run, in one: `helper <what> [args]`.
// Everything it prints is UTF-8, and stdin and stdout are binary.
//
//   argv               its arguments after `argv` as CommandLineToArgvW
//                      splits them, each followed by a NUL byte
//   echo WORDS...      the words, space-separated, and a newline
//   cat                stdin to stdout
//   sleep MS           sleeps
//   exit CODE          exits with CODE (decimal or 0x hex: the full 32 bits)
//   env NAME           the variable's value, or "(unset)"
//   env_count NAME     how many environment entries have that name, in any case
//   pwd                the working directory
//   grandchild         starts `helper sleep 60000`, prints its pid, sleeps
//   crash              writes through a null pointer
//   flood BYTES        writes BYTES to stdout and to stderr, interleaved,
//                      then reads stdin to its end and prints its size
//   handle VALUE       "valid" if VALUE is a handle this process holds
//   lines N            N numbered lines
//   alloc MIB          commits and touches MIB mebibytes: "ok" or "refused"
//   spawn_many N       starts N `helper sleep 60000`, prints how many started
//   spin MS            keeps a CPU busy
//   bytes N            N bytes to stdout, 64 KiB at a time; exits 1 if a
//                      write fails
//   print TEXT         TEXT with \n, \r, \t and \\ unescaped, no newline added
//   err TEXT [CODE]    the same to stderr, then exits with CODE (or 0)
//   touch PATH         creates (or empties) the file
//   readline TAG       reads one line of stdin, byte by byte so that nothing
//                      after it is taken, and prints "TAG:line"
//   drain_exit CODE    reads stdin to its end, then exits with CODE
//   yes                "y" lines until its reader has gone, then exits 0
//   head N             copies the first N lines of stdin, then exits
//   count              the number of bytes on stdin
//   count_lines        the number of lines on stdin
//   count_running DIR  marks itself running in DIR, appends to DIR\peaks how
//                      many are marked, sleeps 20 ms, and unmarks itself
//   wait_for PATH      returns once PATH exists
//   pid_sleep PATH MS  writes its pid to PATH, then sleeps
//   console            through its console (CONOUT$), "console ROWSxCOLS";
//                      then, until that size changes (5 s at most), the new
//                      one the same way

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <fcntl.h>
#include <io.h>
// <shellapi.h> needs <windows.h> first.
// clang-format off
#include <windows.h>
#include <shellapi.h>
// clang-format on

#include <cstdio>
#include <cstdlib>
#include <cwchar>
#include <string>
#include <utility>
#include <vector>

namespace {

std::string utf8(const std::wstring& text) {
  if (text.empty()) return {};
  const int size =
      WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(size), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), size, nullptr, nullptr);
  return out;
}

void put(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

std::string unescape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char next = text[++i];
    out += next == 'n' ? '\n' : next == 'r' ? '\r' : next == 't' ? '\t' : next;
  }
  return out;
}

// The bytes of stdin, counted, and how many of them are newlines.
std::pair<unsigned long long, unsigned long long> count_stdin() {
  unsigned long long bytes = 0, lines = 0;
  char buffer[65536];
  for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, stdin)) > 0;) {
    bytes += got;
    for (std::size_t i = 0; i < got; ++i) lines += buffer[i] == '\n';
  }
  return {bytes, lines};
}

int flood(unsigned long long bytes) {
  std::string chunk(64 * 1024, 'o');
  std::string error_chunk(64 * 1024, 'e');
  for (unsigned long long done = 0; done < bytes;) {
    const std::size_t piece = static_cast<std::size_t>(std::min<unsigned long long>(chunk.size(), bytes - done));
    std::fwrite(chunk.data(), 1, piece, stdout);
    std::fwrite(error_chunk.data(), 1, piece, stderr);
    done += piece;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  unsigned long long read = 0;
  char buffer[65536];
  for (;;) {
    const std::size_t got = std::fread(buffer, 1, sizeof buffer, stdin);
    if (got == 0) break;
    read += got;
  }
  std::printf("\nstdin %llu\n", read);
  return 0;
}

}  // namespace

int main() {
  _setmode(_fileno(stdin), _O_BINARY);
  _setmode(_fileno(stdout), _O_BINARY);
  _setmode(_fileno(stderr), _O_BINARY);
  int count = 0;
  wchar_t** args = CommandLineToArgvW(GetCommandLineW(), &count);
  std::vector<std::wstring> argv(args, args + count);
  if (argv.size() < 2) return 64;
  const std::wstring what = argv[1];
  if (what == L"argv") {
    for (std::size_t i = 2; i < argv.size(); ++i) {
      put(utf8(argv[i]));
      std::fputc('\0', stdout);
    }
  } else if (what == L"echo") {
    for (std::size_t i = 2; i < argv.size(); ++i) {
      if (i > 2) put(" ");
      put(utf8(argv[i]));
    }
    put("\n");
  } else if (what == L"cat") {
    char buffer[65536];
    for (;;) {
      const std::size_t got = std::fread(buffer, 1, sizeof buffer, stdin);
      if (got == 0) break;
      std::fwrite(buffer, 1, got, stdout);
    }
  } else if (what == L"sleep" && argv.size() > 2) {
    Sleep(static_cast<DWORD>(std::wcstoul(argv[2].c_str(), nullptr, 10)));
  } else if (what == L"exit" && argv.size() > 2) {
    std::fflush(stdout);
    ExitProcess(static_cast<UINT>(std::wcstoul(argv[2].c_str(), nullptr, 0)));
  } else if (what == L"env" && argv.size() > 2) {
    wchar_t value[32768];
    const DWORD size = GetEnvironmentVariableW(argv[2].c_str(), value, 32768);
    put(size == 0 ? std::string("(unset)") : utf8(std::wstring(value, size)));
    put("\n");
  } else if (what == L"env_count" && argv.size() > 2) {
    int found = 0;
    wchar_t* block = GetEnvironmentStringsW();
    for (wchar_t* entry = block; *entry != L'\0'; entry += std::wcslen(entry) + 1) {
      const wchar_t* equals = std::wcschr(entry + 1, L'=');
      const std::wstring name(entry, equals == nullptr ? std::wcslen(entry) : static_cast<std::size_t>(equals - entry));
      if (_wcsicmp(name.c_str(), argv[2].c_str()) == 0) ++found;
    }
    FreeEnvironmentStringsW(block);
    std::printf("%d\n", found);
  } else if (what == L"pwd") {
    wchar_t here[MAX_PATH];
    const DWORD size = GetCurrentDirectoryW(MAX_PATH, here);
    put(utf8(std::wstring(here, size)) + "\n");
  } else if (what == L"grandchild") {
    wchar_t self[MAX_PATH];
    GetModuleFileNameW(nullptr, self, MAX_PATH);
    std::wstring line = L"\"" + std::wstring(self) + L"\" sleep 60000";
    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    PROCESS_INFORMATION made{};
    if (!CreateProcessW(self, line.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &startup, &made)) return 70;
    std::printf("%lu\n", made.dwProcessId);
    std::fflush(stdout);
    Sleep(60000);
  } else if (what == L"crash") {
    // Unhandled, it ends the process with the exception's code, as on
    // Windows; the filter only keeps Wine's debugger from starting.
    SetUnhandledExceptionFilter([](EXCEPTION_POINTERS*) -> LONG { return EXCEPTION_EXECUTE_HANDLER; });
    volatile int* nothing = nullptr;
    *nothing = 1;
  } else if (what == L"flood" && argv.size() > 2) {
    return flood(std::wcstoull(argv[2].c_str(), nullptr, 10));
  } else if (what == L"handle" && argv.size() > 2) {
    DWORD flags = 0;
    const auto value =
        reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(std::wcstoull(argv[2].c_str(), nullptr, 0)));
    put(GetHandleInformation(value, &flags) ? "valid\n" : "invalid\n");
  } else if (what == L"lines" && argv.size() > 2) {
    const unsigned long n = std::wcstoul(argv[2].c_str(), nullptr, 10);
    for (unsigned long i = 1; i <= n; ++i) std::printf("line %lu\n", i);
  } else if (what == L"alloc" && argv.size() > 2) {
    const std::size_t bytes = static_cast<std::size_t>(std::wcstoull(argv[2].c_str(), nullptr, 10)) << 20;
    void* memory = VirtualAlloc(nullptr, bytes, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (memory != nullptr)
      for (std::size_t i = 0; i < bytes; i += 4096) static_cast<volatile char*>(memory)[i] = 1;
    put(memory != nullptr ? "ok\n" : "refused\n");
  } else if (what == L"spawn_many" && argv.size() > 2) {
    wchar_t self[MAX_PATH];
    GetModuleFileNameW(nullptr, self, MAX_PATH);
    const unsigned long n = std::wcstoul(argv[2].c_str(), nullptr, 10);
    unsigned long started = 0;
    for (unsigned long i = 0; i < n; ++i) {
      std::wstring line = L"\"" + std::wstring(self) + L"\" sleep 60000";
      STARTUPINFOW startup{};
      startup.cb = sizeof startup;
      PROCESS_INFORMATION made{};
      if (CreateProcessW(self, line.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &startup, &made)) ++started;
    }
    std::printf("%lu\n", started);
  } else if (what == L"console") {
    HANDLE console = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                 OPEN_EXISTING, 0, nullptr);
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (console == INVALID_HANDLE_VALUE || !GetConsoleScreenBufferInfo(console, &info)) return 65;
    auto say = [&](const CONSOLE_SCREEN_BUFFER_INFO& now) {
      char text[64];
      const int n = std::snprintf(text, sizeof text, "console %dx%d\r\n", now.srWindow.Bottom - now.srWindow.Top + 1,
                                  now.srWindow.Right - now.srWindow.Left + 1);
      DWORD written = 0;
      WriteFile(console, text, static_cast<DWORD>(n), &written, nullptr);
    };
    say(info);
    for (int i = 0; i < 250; ++i) {
      Sleep(20);
      CONSOLE_SCREEN_BUFFER_INFO now{};
      GetConsoleScreenBufferInfo(console, &now);
      if (now.srWindow.Right != info.srWindow.Right || now.srWindow.Bottom != info.srWindow.Bottom) {
        say(now);
        break;
      }
    }
  } else if (what == L"bytes" && argv.size() > 2) {
    const std::string chunk(64 * 1024, 'b');
    for (unsigned long long left = std::wcstoull(argv[2].c_str(), nullptr, 10); left > 0;) {
      const std::size_t piece = static_cast<std::size_t>(std::min<unsigned long long>(left, chunk.size()));
      if (std::fwrite(chunk.data(), 1, piece, stdout) != piece) return 1;
      left -= piece;
    }
  } else if ((what == L"print" || what == L"err") && argv.size() > 2) {
    const std::string text = unescape(utf8(argv[2]));
    std::fwrite(text.data(), 1, text.size(), what == L"print" ? stdout : stderr);
    if (argv.size() > 3) {
      std::fflush(nullptr);
      ExitProcess(static_cast<UINT>(std::wcstoul(argv[3].c_str(), nullptr, 0)));
    }
  } else if (what == L"touch" && argv.size() > 2) {
    FILE* file = _wfopen(argv[2].c_str(), L"wb");
    if (file == nullptr) return 66;
    std::fclose(file);
  } else if (what == L"readline" && argv.size() > 2) {
    // ReadFile, not the C runtime's buffered stdin, which reads ahead.
    std::string line;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    char c = 0;
    DWORD got = 0;
    while (ReadFile(in, &c, 1, &got, nullptr) && got == 1 && c != '\n') line += c;
    put(utf8(argv[2]) + ":" + line + "\n");
  } else if (what == L"drain_exit" && argv.size() > 2) {
    count_stdin();
    std::fflush(stdout);
    ExitProcess(static_cast<UINT>(std::wcstoul(argv[2].c_str(), nullptr, 0)));
  } else if (what == L"yes") {
    // Unbuffered, so a reader that has gone shows at the next line.
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD written = 0;
    while (WriteFile(out, "y\n", 2, &written, nullptr)) {
    }
  } else if (what == L"head" && argv.size() > 2) {
    unsigned long left = std::wcstoul(argv[2].c_str(), nullptr, 10);
    for (int c; left > 0 && (c = std::fgetc(stdin)) != EOF;) {
      std::fputc(c, stdout);
      if (c == '\n') --left;
    }
  } else if (what == L"count" || what == L"count_lines") {
    const auto counted = count_stdin();
    std::printf("%llu\n", what == L"count" ? counted.first : counted.second);
  } else if (what == L"count_running" && argv.size() > 2) {
    // One named mutex orders every helper's look at the directory.
    HANDLE turn = CreateMutexW(nullptr, FALSE, L"Local\\ductile-test-count-running");
    const std::wstring mark = argv[2] + L"\\running-" + std::to_wstring(GetCurrentProcessId());
    WaitForSingleObject(turn, INFINITE);
    CloseHandle(CreateFileW(mark.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, 0, nullptr));
    int running = 0;
    WIN32_FIND_DATAW found;
    HANDLE search = FindFirstFileW((argv[2] + L"\\running-*").c_str(), &found);
    if (search != INVALID_HANDLE_VALUE) {
      do ++running;
      while (FindNextFileW(search, &found));
      FindClose(search);
    }
    FILE* peaks = _wfopen((argv[2] + L"\\peaks").c_str(), L"ab");
    if (peaks != nullptr) {
      std::fprintf(peaks, "%d\n", running);
      std::fclose(peaks);
    }
    ReleaseMutex(turn);
    Sleep(20);
    WaitForSingleObject(turn, INFINITE);
    DeleteFileW(mark.c_str());
    ReleaseMutex(turn);
    CloseHandle(turn);
  } else if (what == L"wait_for" && argv.size() > 2) {
    while (GetFileAttributesW(argv[2].c_str()) == INVALID_FILE_ATTRIBUTES) Sleep(10);
  } else if (what == L"pid_sleep" && argv.size() > 3) {
    FILE* file = _wfopen(argv[2].c_str(), L"wb");
    if (file == nullptr) return 66;
    std::fprintf(file, "%lu", GetCurrentProcessId());
    std::fclose(file);
    Sleep(static_cast<DWORD>(std::wcstoul(argv[3].c_str(), nullptr, 10)));
  } else if (what == L"spin" && argv.size() > 2) {
    const ULONGLONG until = GetTickCount64() + std::wcstoul(argv[2].c_str(), nullptr, 10);
    volatile unsigned long long work = 0;
    while (GetTickCount64() < until) ++work;
  } else {
    return 64;
  }
  std::fflush(stdout);
  return 0;
}
