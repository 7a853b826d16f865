#include "plan/credentials.hpp"

#include <fmt/format.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <ductile/error.hpp>
#ifndef _WIN32
#include <ductile/users.hpp>
#endif

#include "model/failure.hpp"
#include "os/child_plan.hpp"

namespace ductile::detail {

[[noreturn]] DUCTILE_INLINE void credential_error(const std::string& command, const std::string& step, int code,
                                                  const std::string& cause) {
  throw_spawn_error(command, step, cause, std::error_code(code, std::generic_category()));
}

#ifndef _WIN32
DUCTILE_INLINE group_id resolve_group(const group_ref& ref, const std::string& command) {
  if (const auto* id = std::get_if<group_id>(&ref)) return *id;
  const auto& name = std::get<std::string>(ref);
  const auto found = users::group_by_name(name);
  if (!found) credential_error(command, "group", ENOENT, fmt::format("unknown group {:?}", name));
  return found->gid;
}

DUCTILE_INLINE std::vector<group_id> sorted(std::vector<group_id> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

DUCTILE_INLINE void resolve_ids(const credential_request& request, const std::string& command,
                                resolved_credentials& out) {
  user_id ruid, euid, suid;
  group_id rgid, egid, sgid;
#if defined(__APPLE__)
  // No saved ids to ask for: setuid as root sets all three anyway.
  ruid = ::getuid();
  euid = suid = ::geteuid();
  rgid = ::getgid();
  egid = sgid = ::getegid();
#else
  ::getresuid(&ruid, &euid, &suid);
  ::getresgid(&rgid, &egid, &sgid);
#endif
  user_id uid = ruid;
  group_id gid = rgid;
  std::vector<group_id> groups = users::process_groups();
  if (request.user) {
    std::optional<users::user> entry;
    if (const auto* name = std::get_if<std::string>(&*request.user)) {
      entry = users::user_by_name(*name);
      if (!entry) credential_error(command, "user", ENOENT, fmt::format("unknown user {:?}", *name));
    } else {
      uid = std::get<user_id>(*request.user);
      entry = users::user_by_uid(uid);
      if (!entry && !request.group)
        credential_error(command, "user", ENOENT,
                         fmt::format("uid {} has no passwd entry: give a group() as well", uid));
    }
    if (entry) {
      uid = entry->uid;
      gid = entry->gid;
      out.user_name = entry->name;
      // The user's own groups, never the parent's.
      groups = users::group_list(entry->name, entry->gid);
    } else {
      out.user_name = std::to_string(uid);
      groups.clear();
    }
  }
  if (request.group) {
    gid = resolve_group(*request.group, command);
    if (!request.user) groups.clear();
  }
  if (request.groups) {
    groups.clear();
    for (const auto& ref : *request.groups) groups.push_back(resolve_group(ref, command));
  }
  if (out.user_name.empty()) out.user_name = std::to_string(uid);
  // Switching to what we already are is skipped, so unprivileged code may say .user(me).
  const bool same = uid == ruid && uid == euid && uid == suid && gid == rgid && gid == egid && gid == sgid &&
                    sorted(groups) == sorted(users::process_groups());
  out.groups = std::move(groups);
  out.plan.switch_ids = !same;
  out.plan.uid = uid;
  out.plan.gid = gid;
}
#endif

DUCTILE_INLINE void resolve_credentials(const credential_request& request, const std::string& command,
                                        resolved_credentials& out) {
  out = resolved_credentials{};
  if (!request.any()) return;
  auto& plan = out.plan;
  plan.new_session = request.new_session;
  plan.umask = request.umask ? static_cast<int>(*request.umask) : -1;
  plan.no_new_privs = request.no_new_privs;
#if defined(_WIN32)
  // No ids to switch to, no capabilities, umask or sessions.
  credential_error(command, "credentials", ENOTSUP, "cannot change credentials: not supported on this system");
#elif DUCTILE_POSIX_BACKEND
  // Capabilities and no_new_privs are Linux's; users, groups, umask and sessions are POSIX.
  const auto linux_only = [&](const char* step, const char* what) {
    credential_error(command, step, ENOTSUP, fmt::format("cannot {}: not supported on this system", what));
  };
  if (request.keep) linux_only("keep caps", "keep capabilities");
  if (request.bounding) linux_only("bounding caps", "change the bounding set");
  if (request.no_new_privs) linux_only("no_new_privs", "set no_new_privs");
  if (request.user || request.group || request.groups) resolve_ids(request, command, out);
#else
  plan.last_capability = caps::last_supported();
  if (request.user || request.group || request.groups) resolve_ids(request, command, out);

  const caps::state now = caps::current();
  if (request.keep) {
    for (caps::capability c : *request.keep) {
      if (!now.permitted.contains(c))
        credential_error(command, "keep caps", EPERM,
                         fmt::format("cannot keep {}: this process does not have it", caps::to_string(c)));
      if (request.bounding && !request.bounding->contains(c))
        credential_error(command, "keep caps", EINVAL,
                         fmt::format("cannot keep {}: the bounding set given leaves it out", caps::to_string(c)));
    }
    plan.keep = true;
    plan.kept = request.keep->mask();
  }
  if (request.bounding) {
    const caps::set drops = caps::bounding() - *request.bounding;
    if (!drops.empty()) {
      if (!now.effective.contains(caps::capability::setpcap))
        credential_error(command, "bounding caps", EPERM,
                         "cannot change the bounding set: this process lacks cap_setpcap");
      plan.change_bounding = true;
      plan.bounding_drops = drops.mask();
    }
  }
#endif
  plan.groups = out.groups.data();
  plan.group_count = out.groups.size();
}

DUCTILE_INLINE std::string describe_credential_failure(int step, int error, const resolved_credentials& credentials) {
  const std::string reason = std::error_code(error, std::generic_category()).message();
  const auto& plan = credentials.plan;
  switch (static_cast<child_step>(step)) {
    case child_step::session: return "cannot start a new session: " + reason;
    case child_step::keep_caps: return "cannot set keep-caps: " + reason;
    case child_step::inheritable:
      return fmt::format("cannot make {} inheritable: {}", caps::to_string(caps::set::from_mask(plan.kept)), reason);
    case child_step::bounding:
      return fmt::format("cannot drop {} from the bounding set: {}",
                         caps::to_string(caps::set::from_mask(plan.bounding_drops)), reason);
    case child_step::setgroups:
      return error == EPERM ? "cannot set the supplementary groups: this process lacks cap_setgid"
                            : "cannot set the supplementary groups: " + reason;
    case child_step::setresgid:
      return error == EPERM ? fmt::format("cannot switch to group {}: this process lacks cap_setgid", plan.gid)
                            : fmt::format("cannot switch to group {}: {}", plan.gid, reason);
    case child_step::setresuid:
      if (error == EAGAIN) return fmt::format("user {} is over its process limit", credentials.user_name);
      return error == EPERM
                 ? fmt::format("cannot switch to user {}: this process lacks cap_setuid", credentials.user_name)
                 : fmt::format("cannot switch to user {}: {}", credentials.user_name, reason);
    case child_step::capset:
      return fmt::format("cannot keep {}: {}", caps::to_string(caps::set::from_mask(plan.kept)), reason);
    case child_step::ambient:
      return fmt::format("cannot raise {} in the ambient set: {}", caps::to_string(caps::set::from_mask(plan.kept)),
                         reason);
    case child_step::no_new_privs: return "cannot set no_new_privs: " + reason;
    default: return reason;
  }
}

}  // namespace ductile::detail
