// own_cgroup() on Windows: the subtree's processes share a job object (each
// child's own job nested inside it), whose limits stand for the cgroup's
// (memory_max: job memory, pids_max: active processes, cpu_max: a hard CPU
// rate) and whose accounting becomes output::cgroup.

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include <chrono>
#include <cmath>
#include <csignal>
#include <thread>

#include "model/failure.hpp"
#include "os/cgroup.hpp"
#include "os/windows/io_port.hpp"
#include "os/windows/win32.hpp"

namespace ductile::detail {

DUCTILE_INLINE std::shared_ptr<cgroup_scope> cgroup_scope::create(const cgroup_options& options,
                                                                  const cgroup_scope* enclosing,
                                                                  const std::string& command) {
  if (!options.parent.empty())
    throw_spawn_error(command, "cgroup", std::string("own_cgroup(): a parent cgroup is not supported on this system"),
                      std::make_error_code(std::errc::not_supported));
  HANDLE job = ::CreateJobObjectW(nullptr, nullptr);
  if (job == nullptr) throw_spawn_error(command, "cgroup", "make a job object", windows::last_error());
  auto fail = [&](const char* what) {
    const auto error = windows::last_error();
    ::CloseHandle(job);
    throw_spawn_error(command, "cgroup", what, error);
  };
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  if (options.memory_max) {
    limits.BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_JOB_MEMORY;
    limits.JobMemoryLimit = static_cast<SIZE_T>(*options.memory_max);
  }
  if (options.pids_max) {
    limits.BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_ACTIVE_PROCESS;
    limits.BasicLimitInformation.ActiveProcessLimit = static_cast<DWORD>(*options.pids_max);
  }
  if (limits.BasicLimitInformation.LimitFlags != 0 &&
      !::SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits))
    fail("set the job's memory and process limits");
  if (options.cpu_max) {
    SYSTEM_INFO system{};
    ::GetSystemInfo(&system);
    // CpuRate is in 1/10000 of the whole machine.
    const double share = *options.cpu_max / static_cast<double>(system.dwNumberOfProcessors);
    JOBOBJECT_CPU_RATE_CONTROL_INFORMATION rate{};
    rate.ControlFlags = JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP;
    rate.CpuRate = static_cast<DWORD>(std::lround(std::min(1.0, std::max(share, 0.0001)) * 10000));
    if (!::SetInformationJobObject(job, JobObjectCpuRateControlInformation, &rate, sizeof rate))
      fail("set the job's CPU rate");
  }
  std::shared_ptr<cgroup_scope> scope(new cgroup_scope());
  const int number = windows::adopt_job(job, enclosing != nullptr ? enclosing->directory_fd() : -1);
  if (number < 0) {
    ::CloseHandle(job);
    throw_spawn_error(command, "cgroup", "track the job object", std::make_error_code(std::errc::not_enough_memory));
  }
  scope->directory_.reset(number);
  scope->path_ = "job object";
  return scope;
}

DUCTILE_INLINE cgroup_scope::~cgroup_scope() { finish(); }

DUCTILE_INLINE void cgroup_scope::signal_all(int signal) noexcept {
  if (signal != SIGKILL && signal != SIGTERM) return;
  if (HANDLE job = windows::job_of(directory_.get())) ::TerminateJobObject(job, 1);
}

DUCTILE_INLINE const cgroup_usage& cgroup_scope::finish() noexcept {
  if (finished_) return usage_;
  finished_ = true;
  HANDLE job = windows::job_of(directory_.get());
  if (job == nullptr) return usage_;
  ::TerminateJobObject(job, 1);
  JOBOBJECT_BASIC_ACCOUNTING_INFORMATION accounting{};
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (!::QueryInformationJobObject(job, JobObjectBasicAccountingInformation, &accounting, sizeof accounting,
                                     nullptr) ||
        accounting.ActiveProcesses == 0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto ticks = accounting.TotalUserTime.QuadPart + accounting.TotalKernelTime.QuadPart;
  usage_.cpu_time = std::chrono::microseconds(ticks / 10);
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  if (::QueryInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits, nullptr))
    usage_.memory_peak_bytes = limits.PeakJobMemoryUsed;
  directory_.reset();
  return usage_;
}

}  // namespace ductile::detail
#endif  // DUCTILE_WINDOWS_BACKEND
