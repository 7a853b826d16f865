#pragma once
// The cgroup v2 of an own_cgroup() subtree: made when the subtree is lowered,
// entered by its children at clone (or just before exec), killed as a whole,
// read and removed when it ends. Linux only; elsewhere create() throws.

#include <cstdint>
#include <ductile/expression.hpp>
#include <ductile/output.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "os/descriptor.hpp"

namespace ductile::detail {

// Where the cgroup v2 hierarchy is mounted, from /proc/self/mountinfo's text:
// the mount point and the cgroup path it shows (its root).
struct cgroup2_mount {
  std::string mount_point;
  std::string root;
};
std::optional<cgroup2_mount> find_cgroup2_mount(std::string_view mountinfo);
// The process's own cgroup v2 path ("0::/path" in /proc/self/cgroup).
std::optional<std::string> unified_cgroup_path(std::string_view proc_self_cgroup);
// cpu.max for `cpus` CPUs over a 100 ms period: "150000 100000" for 1.5.
std::string cpu_max_text(double cpus);

class cgroup_scope {
 public:
  // A new cgroup below options.parent, the enclosing scope's, or the host's
  // own, with the limits asked for. Throws spawn_error naming `command`.
  static std::shared_ptr<cgroup_scope> create(const cgroup_options& options, const cgroup_scope* enclosing,
                                              const std::string& command);
  ~cgroup_scope();
  cgroup_scope(const cgroup_scope&) = delete;
  cgroup_scope& operator=(const cgroup_scope&) = delete;

  const std::string& path() const noexcept { return path_; }
  int directory_fd() const noexcept { return directory_.get(); }  // CLONE_INTO_CGROUP
  int procs_fd() const noexcept { return procs_.get(); }          // a child writes its pid here otherwise
  // Every process in it gets `signal`; SIGKILL goes through cgroup.kill, or on
  // kernels before 5.14 through a freeze, so that nothing forks meanwhile.
  void signal_all(int signal) noexcept;
  // Kills what is left, waits (at most two seconds) until it is empty, reads
  // its usage and removes it. Once; later calls return the same usage.
  const cgroup_usage& finish() noexcept;

 private:
  cgroup_scope() = default;
  bool populated() const noexcept;
  void kill_one_by_one(int signal) noexcept;

  std::string path_;
  unique_fd directory_;
  unique_fd procs_;
  bool finished_ = false;
  cgroup_usage usage_;
};

}  // namespace ductile::detail
