#pragma once
// The signals a run sends of its own accord, named for what they ask, and how
// the system tells that a writer died of a closed pipe. A user's own
// send_signal(n) passes its number through unchanged; these are the run's.
// On Windows a run's job object is terminated for either request (with exit
// code 1, as TerminateProcess is told) and no program dies of a pipe: a
// write fails there and the program chooses its exit code.

#include <signal.h>

#include <ductile/native.hpp>
#include <ductile/output.hpp>
#include <stdexcept>
#include <string>

namespace ductile::detail::os {

// A timeout's or a pool's first word: the program may clean up.
inline constexpr int ask_to_stop = SIGTERM;
// kill(), a grace period run out, a failed run's siblings: no say.
inline constexpr int force_to_stop = SIGKILL;

// The status a run records for a job it forced to stop before it could say.
constexpr exit_status forced_stop_status() noexcept {
#ifdef _WIN32
  return exit_status::exited(1);
#else
  return exit_status::killed(SIGKILL);
#endif
}

// A pipe's writer that died because its reader stopped reading.
inline bool ended_by_closed_pipe(const exit_status& status) noexcept {
#ifdef _WIN32
  (void)status;
  return false;
#else
  return status.signal() == SIGPIPE;
#endif
}

}  // namespace ductile::detail::os

namespace ductile::detail {

// What send_signal() can send: any number on POSIX; on Windows the ones that
// map to ending the job (SIGKILL, SIGTERM) or to a console event (SIGINT,
// SIGBREAK). Others are std::invalid_argument there.
inline void refuse_unsendable_signal(int signal) {
#ifdef _WIN32
  if (signal == SIGKILL || signal == SIGTERM || signal == SIGINT || signal == SIGBREAK) return;
  throw std::invalid_argument("send_signal(" + std::to_string(signal) +
                              "): not supported on this system: only SIGKILL, SIGTERM, SIGINT and SIGBREAK are");
#else
  (void)signal;
#endif
}

}  // namespace ductile::detail
