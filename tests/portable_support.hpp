#pragma once
// What every suite needs, on every system the library builds for (Windows
// included): doctest, the library, the helper programs' paths, temporary
// directories and files, and the children of this process. support.hpp adds
// what only POSIX systems have.

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
// tlhelp32.h needs windows.h before it.
// clang-format off
#include <windows.h>
#include <tlhelp32.h>
// clang-format on
#else
#include <unistd.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// The backend the library under test runs on, decided as lib/common.hpp does.
#ifndef DUCTILE_POSIX_BACKEND
#if defined(_WIN32) || (defined(__linux__) && !defined(DUCTILE_PORTABLE))
#define DUCTILE_POSIX_BACKEND 0
#else
#define DUCTILE_POSIX_BACKEND 1
#endif
#endif

#include "doctest.hpp"

namespace test {

namespace fs = std::filesystem;

// Sanitized builds check every byte they move, reserve large address ranges,
// and ThreadSanitizer cannot start threads in a child forked from a threaded process.
// GCC names them with macros, clang with __has_feature.
#if defined(__has_feature)
#define DUCTILE_TEST_HAS_FEATURE(feature) __has_feature(feature)
#else
#define DUCTILE_TEST_HAS_FEATURE(feature) 0
#endif
#if defined(__SANITIZE_THREAD__) || DUCTILE_TEST_HAS_FEATURE(thread_sanitizer)
inline constexpr bool thread_sanitizer = true;
#else
inline constexpr bool thread_sanitizer = false;
#endif
#if defined(__SANITIZE_ADDRESS__) || DUCTILE_TEST_HAS_FEATURE(address_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = thread_sanitizer;
#endif
#undef DUCTILE_TEST_HAS_FEATURE

inline fs::path helper_path(const char* name) { return fs::path(DUCTILE_TEST_HELPERS) / name; }

template <class... Args>
ductile::expression helper(const char* name, const Args&... args) {
  return ductile::cmd(helper_path(name), args...);
}

#ifdef _WIN32
// When `process` was created, as a number that orders creations.
inline unsigned long long created_at(HANDLE process) {
  FILETIME created{}, exited{}, kernel{}, user{};
  if (!GetProcessTimes(process, &created, &exited, &kernel, &user)) return 0;
  return (static_cast<unsigned long long>(created.dwHighDateTime) << 32) | created.dwLowDateTime;
}

// Every running process whose parent is this one: none, where a suite starts
// none. A process id is reused at once (under Wine all the more), and a
// process keeps its parent's id after the parent has gone: one made before
// this process was made is the child of an earlier owner of this id.
inline std::vector<unsigned long> children() {
  std::vector<unsigned long> result;
  const unsigned long long self_created = created_at(GetCurrentProcess());
  const HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot == INVALID_HANDLE_VALUE) throw std::runtime_error("CreateToolhelp32Snapshot failed");
  PROCESSENTRY32 entry{};
  entry.dwSize = sizeof entry;
  for (BOOL more = Process32First(snapshot, &entry); more; more = Process32Next(snapshot, &entry)) {
    if (entry.th32ParentProcessID != GetCurrentProcessId()) continue;
    const HANDLE child = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, entry.th32ProcessID);
    if (child == nullptr) continue;  // gone meanwhile
    const bool running = WaitForSingleObject(child, 0) == WAIT_TIMEOUT;
    const bool ours = created_at(child) >= self_created;
    CloseHandle(child);
    if (running && ours) result.push_back(entry.th32ProcessID);
  }
  CloseHandle(snapshot);
  return result;
}
#else
// Every process whose parent is this one: after a run, there must be none.
inline std::vector<pid_t> children() {
  std::vector<pid_t> result;
  const pid_t self = getpid();
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close_paren = line.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(line.substr(close_paren + 2));
    char state;
    pid_t parent;
    rest >> state >> parent;
    if (parent == self) result.push_back(std::stoi(name));
  }
  return result;
}
#endif

// Runs `work`; if it has not returned within `limit`, the process ends with a
// message: a thread blocked on a lock it already holds cannot be unblocked,
// and a deadlock ends the test program instead of hanging CI.
template <class Work>
void without_deadlock(Work&& work, std::chrono::seconds limit = std::chrono::seconds(30)) {
  std::atomic<bool> done{false};
  std::thread watchdog([&done, limit] {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!done) {
      std::fputs("deadlock: a callback that called back into ductile never returned\n", stderr);
      std::_Exit(1);
    }
  });
  work();
  done = true;
  watchdog.join();
}

// How a run ended, as the lone-command tests compare the short path with
// the general one: "ok", "status_error" or "spawn_error", with the words.
struct run_outcome {
  std::string kind;
  std::string message;
  std::string command;
  std::string step;
  ductile::output result;
};

// Runs `e`; `general` puts an observer in place first, which makes every
// run() take the general path, with its job tree and event loop.
inline run_outcome run_through(const ductile::expression& e, bool general) {
  struct quiet_observer : ductile::observer {};
  if (general) ductile::set_observer(std::make_shared<quiet_observer>());
  run_outcome o;
  try {
    o.result = e.run();
    o.kind = "ok";
  } catch (const ductile::status_error& error) {
    o = run_outcome{"status_error", error.what(), error.command(), "", error.output()};
  } catch (const ductile::spawn_error& error) {
    o = run_outcome{"spawn_error", error.what(), error.command(), error.step(), ductile::output{}};
  }
  if (general) ductile::set_observer(nullptr);
  return o;
}

// Whether `condition` becomes true within `limit`, looked at every 5 ms.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

struct temp_dir {
  fs::path path;
  // Six random characters, as mkdtemp() makes: a path under it must stay
  // short enough for a Unix socket (ssh's control sockets live there).
  temp_dir() {
    static constexpr char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::random_device seed;
    std::mt19937 random(seed());
    for (;;) {
      std::string name = "ductile-test-";
      for (int i = 0; i < 6; ++i) name += letters[random() % (sizeof letters - 1)];
      path = fs::temp_directory_path() / name;
      if (fs::create_directory(path)) break;
    }
    fs::permissions(path, fs::perms::owner_all);  // private, as mkdtemp() makes it
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  fs::path operator/(const std::string& name) const { return path / name; }
};

inline std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  std::string content(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
  in.seekg(0);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  return content;
}

inline void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
}

// The error `work` throws, which must be an `Error`; fails the test otherwise.
template <class Error, class Work>
Error expect_error(Work&& work) {
  try {
    work();
  } catch (const Error& error) {
    return error;
  }
  FAIL("the expected error was not thrown");
  throw std::logic_error("unreachable");
}

}  // namespace test
