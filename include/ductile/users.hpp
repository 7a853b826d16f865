#pragma once
/// \file
/// Users and groups with the C++ standard library and libc only: reentrant
/// lookups, supplementary group lists, and the process's ids. Usable on its own.

#ifndef _WIN32
// POSIX users and groups; Windows has neither uid_t nor a passwd database.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ductile::users {

struct user {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name, home, shell, gecos;
};

struct group {
  gid_t gid = 0;
  std::string name;
  std::vector<std::string> members;
};

/// A lookup that failed for a reason other than "no such entry" (EIO, EMFILE, ...).
class lookup_error : public std::system_error {
 public:
  lookup_error(int code, const std::string& what) : std::system_error(code, std::generic_category(), what) {}
};

/// Nothing if there is no such user; throws lookup_error if the lookup itself failed.
std::optional<user> user_by_name(std::string_view name);
std::optional<user> user_by_uid(uid_t uid);
std::optional<group> group_by_name(std::string_view name);
std::optional<group> group_by_gid(gid_t gid);

/// The groups `user_name` belongs to, `primary` included (getgrouplist, grown until it fits).
std::vector<gid_t> group_list(std::string_view user_name, gid_t primary);
/// The supplementary groups of this process (getgroups).
std::vector<gid_t> process_groups();

uid_t current_uid() noexcept;
uid_t effective_uid() noexcept;
gid_t current_gid() noexcept;
gid_t effective_gid() noexcept;
/// The user entry of the real uid, if it has one.
std::optional<user> current_user();
/// The user entry of the effective uid, if it has one.
std::optional<user> effective_user();

}  // namespace ductile::users
#endif  // _WIN32
