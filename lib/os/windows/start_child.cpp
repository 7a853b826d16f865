// Starting a child on Windows: the program found as which() finds it, a
// command line the child reads back exactly (command_line.hpp), only its
// three standard handles inherited (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), and
// the child made suspended, put in a job of its own and only then resumed,
// so that nothing it starts escapes the job that kill() ends.

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include <io.h>

#include <algorithm>
#include <cerrno>
#include <cwctype>
#include <string>
#include <vector>

#include "os/start_child.hpp"
#include "os/system_calls.hpp"
#include "os/windows/command_line.hpp"
#include "os/windows/io_port.hpp"
#include "os/windows/program_search.hpp"
#include "os/windows/win32.hpp"

namespace ductile::detail {

DUCTILE_INLINE start_mode usual_start_mode() noexcept { return start_mode::copied_memory; }

DUCTILE_INLINE pidfd_support pidfds() noexcept { return pidfd_support::absent; }

namespace windows {

// Environment names compare without case: Path and PATH are one variable.
DUCTILE_INLINE bool same_name(std::wstring_view a, std::wstring_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::towupper(a[i]) != std::towupper(b[i])) return false;
  return true;
}

DUCTILE_INLINE std::wstring_view name_of(std::wstring_view entry) noexcept {
  // "=C:=C:\\dir" names a drive's directory: its name starts after the first '='.
  const std::size_t equals = entry.find(L'=', 1);
  return entry.substr(0, equals == std::wstring_view::npos ? entry.size() : equals);
}

// The child's environment block: one entry per name (the last given wins),
// sorted without case as Windows expects.
struct environment_block {
  std::vector<std::wstring> entries;
  std::wstring block;

  const std::wstring* find(std::wstring_view name) const {
    for (const auto& entry : entries)
      if (same_name(name_of(entry), name)) return &entry;
    return nullptr;
  }
  std::wstring value(std::wstring_view name) const {
    const std::wstring* entry = find(name);
    return entry == nullptr ? std::wstring() : entry->substr(name.size() + 1);
  }
};

DUCTILE_INLINE bool make_environment(const char* const* envp, environment_block& out, std::string& bad) {
  for (const char* const* entry = envp; *entry != nullptr; ++entry) {
    std::wstring wide;
    if (!widen(*entry, wide)) {
      bad = *entry;
      return false;
    }
    const std::wstring_view name = name_of(wide);
    auto same = std::find_if(out.entries.begin(), out.entries.end(),
                             [&](const std::wstring& e) { return same_name(name_of(e), name); });
    if (same != out.entries.end())
      *same = std::move(wide);
    else
      out.entries.push_back(std::move(wide));
  }
  std::sort(out.entries.begin(), out.entries.end(), [](const std::wstring& a, const std::wstring& b) {
    const std::wstring_view x = name_of(a), y = name_of(b);
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      const auto p = std::towupper(x[i]), q = std::towupper(y[i]);
      if (p != q) return p < q;
    }
    return x.size() < y.size();
  });
  for (const auto& entry : out.entries) {
    out.block += entry;
    out.block += L'\0';
  }
  if (out.entries.empty()) out.block += L'\0';
  out.block += L'\0';
  return true;
}

DUCTILE_INLINE std::wstring system_program(const wchar_t* name) {
  wchar_t directory[MAX_PATH];
  const UINT size = ::GetSystemDirectoryW(directory, MAX_PATH);
  return std::wstring(directory, size < MAX_PATH ? size : 0) + L"\\" + name;
}

// Inheritable copies of the child's standard handles, closed when done.
struct inherited_handles {
  HANDLE stdio[3] = {nullptr, nullptr, nullptr};
  std::vector<HANDLE> list;
  ~inherited_handles() {
    for (HANDLE h : list) ::CloseHandle(h);
  }
};

DUCTILE_INLINE std::error_code inherit_stdio(const child_plan& plan, inherited_handles& out) {
  for (int i = 0; i < 3; ++i) {
    const int fd = plan.stdio[i];
    // A pseudo console (a pty() child's "slave") is no handle: the child
    // finds it as its console.
    if (fd < 0 || fd >= object_numbers) continue;
    // The same descriptor for two streams is one inherited handle.
    bool shared = false;
    for (int earlier = 0; earlier < i; ++earlier)
      if (plan.stdio[earlier] == fd && out.stdio[earlier] != nullptr) {
        out.stdio[i] = out.stdio[earlier];
        shared = true;
      }
    if (shared) continue;
    const auto source = reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
    if (source == INVALID_HANDLE_VALUE || source == nullptr) continue;  // a parent without that stream
    HANDLE copy = nullptr;
    if (!::DuplicateHandle(::GetCurrentProcess(), source, ::GetCurrentProcess(), &copy, 0, TRUE, DUPLICATE_SAME_ACCESS))
      return last_error();
    out.list.push_back(copy);
    out.stdio[i] = copy;
  }
  return {};
}

}  // namespace windows

// A daemon: outside the caller's job where the job lets it break away, in a
// console process group of its own and without a console; its pid written
// to the pid file before it runs.
DUCTILE_INLINE started_child start_daemon(const std::wstring& application, std::wstring& line,
                                          windows::environment_block& environment, bool own_environment,
                                          const std::wstring& directory, STARTUPINFOEXW& startup, bool inherits,
                                          HANDLE pid_file, DWORD flags, started_child& started, child_report& report) {
  flags |= DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP;
  PROCESS_INFORMATION made{};
  auto create = [&](DWORD extra) {
    return ::CreateProcessW(application.c_str(), line.data(), nullptr, nullptr, inherits ? TRUE : FALSE, flags | extra,
                            own_environment ? environment.block.data() : nullptr,
                            directory.empty() ? nullptr : directory.c_str(), &startup.StartupInfo, &made) != 0;
  };
  if (!create(CREATE_BREAKAWAY_FROM_JOB) && !create(0)) {
    report.step = child_step::exec;
    report.error = windows::errno_from(::GetLastError());
    if (report.error == 0) report.error = EINVAL;
    return std::move(started);
  }
  if (pid_file != nullptr) {
    const std::string text = std::to_string(made.dwProcessId) + "\n";
    DWORD written = 0;
    ::SetFilePointer(pid_file, 0, nullptr, FILE_BEGIN);
    ::SetEndOfFile(pid_file);
    ::WriteFile(pid_file, text.data(), static_cast<DWORD>(text.size()), &written, nullptr);
  }
  ::ResumeThread(made.hThread);
  ::CloseHandle(made.hThread);
  ::CloseHandle(made.hProcess);
  started.process.pid = static_cast<pid_t>(made.dwProcessId);
  report.daemon = started.process.pid;
  return std::move(started);
}

DUCTILE_INLINE started_child start_child(child_plan& plan, child_report& report, start_mode mode) noexcept {
  started_child started;
  auto refuse = [&](std::error_code error, const char* step, const char* what) {
    started.error = error;
    started.step = step;
    started.what = what;
    return std::move(started);
  };
  auto fail_in_child = [&](child_step step, int error) {
    report.step = step;
    report.error = error;
    return std::move(started);
  };
  const bool daemon = mode == start_mode::daemon || plan.daemon != nullptr;
  if (plan.credentials != nullptr) return refuse(sys::not_supported(), "credentials", "change credentials");
  if (plan.passed_count > 0) return refuse(sys::not_supported(), "pass_fd", "pass descriptors");
  try {
    using namespace windows;
    // Arguments, environment and directory in UTF-16.
    std::vector<std::wstring> args;
    for (const char* const* arg = plan.argv; *arg != nullptr; ++arg) {
      std::wstring wide;
      if (!widen(*arg, wide)) {
        started.error = std::make_error_code(std::errc::illegal_byte_sequence);
        started.explanation = std::make_unique<std::string>(std::string("argument is not valid UTF-8: ") + *arg);
        return started;
      }
      args.push_back(std::move(wide));
    }
    environment_block environment;
    const bool own_environment = plan.envp != nullptr;
    if (own_environment) {
      std::string bad;
      if (!make_environment(plan.envp, environment, bad)) {
        started.error = std::make_error_code(std::errc::illegal_byte_sequence);
        started.explanation = std::make_unique<std::string>("environment entry is not valid UTF-8: " + bad);
        return started;
      }
    }
    std::wstring directory;
    if (plan.dir != nullptr) {
      if (!widen(plan.dir, directory)) {
        started.error = std::make_error_code(std::errc::illegal_byte_sequence);
        started.explanation = std::make_unique<std::string>(std::string("directory is not valid UTF-8: ") + plan.dir);
        return started;
      }
      const DWORD attributes = ::GetFileAttributesW(directory.c_str());
      if (attributes == INVALID_FILE_ATTRIBUTES || !(attributes & FILE_ATTRIBUTE_DIRECTORY))
        return fail_in_child(child_step::chdir, attributes == INVALID_FILE_ATTRIBUTES ? ENOENT : ENOTDIR);
    }
    std::wstring program_name;
    if (!widen(plan.program, program_name)) {
      started.error = std::make_error_code(std::errc::illegal_byte_sequence);
      started.explanation =
          std::make_unique<std::string>(std::string("program name is not valid UTF-8: ") + plan.program);
      return started;
    }

    // The program, found in the child's PATH with the child's PATHEXT.
    const std::wstring path = own_environment ? environment.value(L"PATH") : inherited_variable(L"PATH");
    std::wstring extensions = own_environment ? environment.value(L"PATHEXT") : inherited_variable(L"PATHEXT");
    if (extensions.empty()) extensions = default_extensions;
    std::wstring program;
    if (!find_program(program_name, plan.search_path != nullptr, path, extensions, program))
      return fail_in_child(child_step::exec, ENOENT);

    // The command line.
    std::wstring application = program;
    std::wstring line;
    if (is_batch_file(program)) {
      // cmd.exe /s strips the outer quotes of what follows /c and runs the rest.
      if (program.find_first_of(L"\"%") != std::wstring::npos) {
        started.error = std::make_error_code(std::errc::invalid_argument);
        started.step = "exec";
        started.explanation = std::make_unique<std::string>(
            "the batch file's path holds a quote or a percent sign, which cmd.exe cannot receive");
        return started;
      }
      application = system_program(L"cmd.exe");
      line = L"cmd.exe /d /v:off /s /c \"\"" + program + L"\"";
      for (std::size_t i = 1; i < args.size(); ++i) {
        if (!append_batch_argument(line, args[i])) {
          started.error = std::make_error_code(std::errc::invalid_argument);
          started.step = "exec";
          started.explanation =
              std::make_unique<std::string>("argument " + std::to_string(i) + " (" + narrow(args[i]) +
                                            ") cannot be passed to a batch file unchanged: cmd.exe would read quotes, "
                                            "percent signs and line breaks as its own");
          return started;
        }
      }
      line += L'"';
    } else {
      if (!append_program_name(line, args.empty() ? program : args[0])) {
        started.error = std::make_error_code(std::errc::invalid_argument);
        started.step = "exec";
        started.explanation =
            std::make_unique<std::string>("the program's name holds a quote, which Windows cannot pass");
        return started;
      }
      for (std::size_t i = 1; i < args.size(); ++i) append_argument(line, args[i]);
    }
    if (line.size() >= 32767) return fail_in_child(child_step::exec, E2BIG);

    // Exactly the three standard handles are inherited.
    inherited_handles handles;
    if (const auto error = inherit_stdio(plan, handles)) return refuse(error, "stdio", "pass the standard handles");
    // A daemon's pid file, locked here and inherited: the lock lasts as long
    // as the daemon holds the handle, its whole life (flock's role on POSIX).
    HANDLE pid_file = nullptr;
    if (daemon && plan.daemon != nullptr && plan.daemon->pid_file != nullptr) {
      std::wstring name;
      if (!widen(plan.daemon->pid_file, name)) {
        started.error = std::make_error_code(std::errc::illegal_byte_sequence);
        started.explanation =
            std::make_unique<std::string>(std::string("pid file name is not valid UTF-8: ") + plan.daemon->pid_file);
        return started;
      }
      SECURITY_ATTRIBUTES inheritable{sizeof inheritable, nullptr, TRUE};
      pid_file = ::CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &inheritable, OPEN_ALWAYS,
                               FILE_ATTRIBUTE_NORMAL, nullptr);
      if (pid_file == INVALID_HANDLE_VALUE) return fail_in_child(child_step::pid_file, errno_from(::GetLastError()));
      handles.list.push_back(pid_file);  // closed with the others
      // A byte far past the pid's text, so that anyone can still read the pid.
      OVERLAPPED far_byte{};
      far_byte.Offset = 0xFFFFFFFEu;
      far_byte.OffsetHigh = 0x7FFFFFFFu;
      if (!::LockFileEx(pid_file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &far_byte)) {
        const DWORD error = ::GetLastError();
        return fail_in_child(child_step::pid_file, error == ERROR_LOCK_VIOLATION || error == ERROR_IO_PENDING
                                                       ? EWOULDBLOCK
                                                       : (errno_from(error) != 0 ? errno_from(error) : EACCES));
      }
    }
    SIZE_T attribute_size = 0;
    ::InitializeProcThreadAttributeList(nullptr, 2, 0, &attribute_size);
    std::vector<unsigned char> attribute_memory(attribute_size);
    auto* attributes = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attribute_memory.data());
    if (!::InitializeProcThreadAttributeList(attributes, 2, 0, &attribute_size))
      return refuse(last_error(), "spawn", "prepare the handles to inherit");
    struct attribute_list_end {
      LPPROC_THREAD_ATTRIBUTE_LIST list;
      ~attribute_list_end() { ::DeleteProcThreadAttributeList(list); }
    } end_list{attributes};
    if (!handles.list.empty() &&
        !::UpdateProcThreadAttribute(attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles.list.data(),
                                     handles.list.size() * sizeof(HANDLE), nullptr, nullptr))
      return refuse(last_error(), "spawn", "list the handles to inherit");
    // pty(): started in the pseudo console; its streams that are the
    // console's get none of ours (a null standard handle there).
    void* console = plan.controlling_terminal >= 0 ? console_of(plan.controlling_terminal) : nullptr;
    if (plan.controlling_terminal >= 0 && console == nullptr)
      return refuse(std::make_error_code(std::errc::bad_file_descriptor), "pty", "find the pseudo console");
    if (console != nullptr && !::UpdateProcThreadAttribute(attributes, 0, pseudo_console_attribute, console,
                                                           sizeof console, nullptr, nullptr))
      return refuse(last_error(), "pty", "start a process in the pseudo console");
    STARTUPINFOEXW startup{};
    startup.StartupInfo.cb = sizeof startup;
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.StartupInfo.hStdInput = handles.stdio[0];
    startup.StartupInfo.hStdOutput = handles.stdio[1];
    startup.StartupInfo.hStdError = handles.stdio[2];
    startup.lpAttributeList = attributes;

    DWORD flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT;
    if (daemon)
      return start_daemon(application, line, environment, own_environment, directory, startup, !handles.list.empty(),
                          pid_file, flags, started, report);
    if (plan.process_group == 0) {
      flags |= CREATE_NEW_PROCESS_GROUP;
      report.made_group = true;
    }
    HANDLE job = ::CreateJobObjectW(nullptr, nullptr);
    if (job == nullptr) return refuse(last_error(), "spawn", "make a job object");
    if (plan.die_with != 0) {
      JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
      limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
      ::SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
    }
    PROCESS_INFORMATION made{};
    if (const int fault = sys::injected_fault(sys::call::clone)) {
      ::CloseHandle(job);
      return refuse(std::error_code(fault, std::generic_category()), "spawn", "start a process");
    }
    if (!::CreateProcessW(application.c_str(), line.data(), nullptr, nullptr, handles.list.empty() ? FALSE : TRUE,
                          flags, own_environment ? environment.block.data() : nullptr,
                          directory.empty() ? nullptr : directory.c_str(), &startup.StartupInfo, &made)) {
      const DWORD error = ::GetLastError();
      ::CloseHandle(job);
      const int portable = errno_from(error);
      if (portable != 0) return fail_in_child(child_step::exec, portable);
      return refuse(error_from(error), "exec", "start the process");
    }
    // In its jobs before it runs a single instruction: nothing it starts
    // escapes. An own_cgroup() subtree's jobs come first, outermost first, so
    // that each job assigned after is nested in them.
    std::vector<HANDLE> enclosing;
    for (int number = plan.cgroup_directory; number >= 0; number = outer_job_of(number))
      if (HANDLE outer = job_of(number)) enclosing.insert(enclosing.begin(), outer);
    for (HANDLE outer : enclosing) {
      if (!::AssignProcessToJobObject(outer, made.hProcess)) {
        const DWORD error = ::GetLastError();
        ::TerminateProcess(made.hProcess, 1);
        ::CloseHandle(made.hThread);
        ::CloseHandle(made.hProcess);
        ::CloseHandle(job);
        return fail_in_child(child_step::cgroup, errno_from(error) != 0 ? errno_from(error) : EPERM);
      }
    }
    if (!::AssignProcessToJobObject(job, made.hProcess)) {
      ::CloseHandle(job);
      job = nullptr;  // a parent's job that allows no other: the process alone is ended
    }
    // Tracked (and counted as its console's) before it runs, so that no end
    // of it can come first.
    const int number = adopt_process(made.hProcess, job, made.dwProcessId);
    if (number < 0) {
      ::TerminateProcess(made.hProcess, 1);
      ::CloseHandle(made.hThread);
      ::CloseHandle(made.hProcess);
      if (job != nullptr) ::CloseHandle(job);
      return refuse(std::make_error_code(std::errc::not_enough_memory), "spawn", "track the process");
    }
    if (console != nullptr) attach_to_console(plan.controlling_terminal, number);
    ::ResumeThread(made.hThread);
    ::CloseHandle(made.hThread);
    started.process.pid = static_cast<pid_t>(made.dwProcessId);
    started.process.pidfd.reset(number);
    return started;
  } catch (...) {
    return refuse(std::make_error_code(std::errc::not_enough_memory), "spawn", "start a process");
  }
}

}  // namespace ductile::detail
#endif  // DUCTILE_WINDOWS_BACKEND
