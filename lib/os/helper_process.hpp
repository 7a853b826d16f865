#pragma once
// Short helper programs the library runs for itself, outside any run: the
// command that signals a remote run's processes, the one that closes a
// shared ssh connection at exit, and Slurm's squeue, sacct and scancel. They
// get /dev/null for 0, 1 and 2 unless told otherwise and no other
// descriptor, and are waited for here.

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ductile::detail::sys {

// Runs argv[0] (searched in PATH) and waits for it; the error is the
// spawn's, not the helper's status. Allocates nothing itself.
std::error_code run_helper(const std::vector<const char*>& argv) noexcept;

// The same with `input` on its stdin (a socket, so that a helper that stops
// reading costs no SIGPIPE), and its exit code in `exit_code` (-1 if a
// signal ended it).
std::error_code run_helper_with_input(const std::vector<const char*>& argv, std::string_view input,
                                      int& exit_code) noexcept;

// The same with stdout and stderr both read into `printed` (at most 1 MiB
// kept; the rest is read and dropped), and its exit code in `exit_code`.
std::error_code run_helper_for_output(const std::vector<const char*>& argv, std::string& printed,
                                      int& exit_code) noexcept;

// Removes the files directly in `path`, then `path`.
void remove_flat_directory(const std::string& path) noexcept;

}  // namespace ductile::detail::sys
