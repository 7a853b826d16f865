// Users and groups through the reentrant getpwnam_r family. Buffers start at
// sysconf's suggestion and double on ERANGE; "not found" (a null result with
// status 0, or ENOENT/ESRCH/EBADF/EPERM as some NSS modules report it) is
// told apart from a real failure.
// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <ductile/users.hpp>

#include "common.hpp"

namespace ductile::users {
namespace detail {

DUCTILE_INLINE bool means_not_found(int status) {
  return status == 0 || status == ENOENT || status == ESRCH || status == EBADF || status == EPERM;
}

DUCTILE_INLINE std::size_t initial_buffer(int which) {
  const long suggested = ::sysconf(which);
  return suggested > 0 ? static_cast<std::size_t>(suggested) : 1024;
}

// Calls `lookup(entry, buffer, size, result)` until the buffer is large enough,
// and converts the entry while the buffer its strings point into still lives.
template <class Entry, class Lookup, class Convert>
auto lookup_entry(Lookup lookup, int size_hint, Convert convert, const std::string& what)
    -> std::optional<decltype(convert(std::declval<const Entry&>()))> {
  std::vector<char> buffer(initial_buffer(size_hint));
  for (;;) {
    Entry entry{};
    Entry* result = nullptr;
    const int status = lookup(&entry, buffer.data(), buffer.size(), &result);
    if (status == ERANGE) {
      if (buffer.size() > (std::size_t{1} << 24)) throw lookup_error(ERANGE, what);
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (result != nullptr) return convert(entry);
    if (status == EINTR) continue;
    if (means_not_found(status)) return std::nullopt;
    throw lookup_error(status, what);
  }
}

DUCTILE_INLINE user from_passwd(const passwd& p) {
  return user{p.pw_uid,
              p.pw_gid,
              p.pw_name ? p.pw_name : "",
              p.pw_dir ? p.pw_dir : "",
              p.pw_shell ? p.pw_shell : "",
              p.pw_gecos ? p.pw_gecos : ""};
}

DUCTILE_INLINE group from_group(const ::group& g) {
  group result{g.gr_gid, g.gr_name ? g.gr_name : "", {}};
  for (char** member = g.gr_mem; member != nullptr && *member != nullptr; ++member)
    result.members.emplace_back(*member);
  return result;
}

}  // namespace detail

DUCTILE_INLINE std::optional<user> user_by_name(std::string_view name) {
  const std::string key(name);
  auto lookup = [&](passwd* e, char* b, std::size_t n, passwd** r) { return ::getpwnam_r(key.c_str(), e, b, n, r); };
  return detail::lookup_entry<passwd>(lookup, _SC_GETPW_R_SIZE_MAX, detail::from_passwd, "look up user " + key);
}

DUCTILE_INLINE std::optional<user> user_by_uid(uid_t uid) {
  auto lookup = [&](passwd* e, char* b, std::size_t n, passwd** r) { return ::getpwuid_r(uid, e, b, n, r); };
  return detail::lookup_entry<passwd>(lookup, _SC_GETPW_R_SIZE_MAX, detail::from_passwd,
                                      "look up uid " + std::to_string(uid));
}

DUCTILE_INLINE std::optional<group> group_by_name(std::string_view name) {
  const std::string key(name);
  auto lookup = [&](::group* e, char* b, std::size_t n, ::group** r) { return ::getgrnam_r(key.c_str(), e, b, n, r); };
  return detail::lookup_entry<::group>(lookup, _SC_GETGR_R_SIZE_MAX, detail::from_group, "look up group " + key);
}

DUCTILE_INLINE std::optional<group> group_by_gid(gid_t gid) {
  auto lookup = [&](::group* e, char* b, std::size_t n, ::group** r) { return ::getgrgid_r(gid, e, b, n, r); };
  return detail::lookup_entry<::group>(lookup, _SC_GETGR_R_SIZE_MAX, detail::from_group,
                                       "look up gid " + std::to_string(gid));
}

DUCTILE_INLINE std::vector<gid_t> group_list(std::string_view user_name, gid_t primary) {
  const std::string name(user_name);
  int count = 16;
  std::vector<gid_t> groups;
  for (;;) {
    groups.assign(static_cast<std::size_t>(count), 0);
    int found = count;
    // getgrouplist returns -1 and sets `found` to the size it needs when the
    // buffer is short. Only the first `found` entries are ever meaningful:
    // reading past them is how a list comes back with a spurious group 0.
#if defined(__APPLE__)
    // macOS declares the list as int; gid_t has the same size there.
    static_assert(sizeof(int) == sizeof(gid_t), "getgrouplist's int list holds gid_t values");
    const int listed =
        ::getgrouplist(name.c_str(), static_cast<int>(primary), reinterpret_cast<int*>(groups.data()), &found);
#else
    const int listed = ::getgrouplist(name.c_str(), primary, groups.data(), &found);
#endif
    if (listed >= 0) {
      groups.resize(static_cast<std::size_t>(found));
      return groups;
    }
    count = found > count ? found : count * 2;
    if (count > 65536) throw lookup_error(ERANGE, "list the groups of " + name);
  }
}

DUCTILE_INLINE std::vector<gid_t> process_groups() {
  for (;;) {
    const int count = ::getgroups(0, nullptr);
    if (count < 0) throw lookup_error(errno, "getgroups");
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    const int got = ::getgroups(count, groups.data());
    if (got >= 0) {
      groups.resize(static_cast<std::size_t>(got));
      return groups;
    }
    if (errno != EINVAL) throw lookup_error(errno, "getgroups");  // EINVAL: the list grew meanwhile
  }
}

DUCTILE_INLINE uid_t current_uid() noexcept { return ::getuid(); }
DUCTILE_INLINE uid_t effective_uid() noexcept { return ::geteuid(); }
DUCTILE_INLINE gid_t current_gid() noexcept { return ::getgid(); }
DUCTILE_INLINE gid_t effective_gid() noexcept { return ::getegid(); }
DUCTILE_INLINE std::optional<user> current_user() { return user_by_uid(::getuid()); }
DUCTILE_INLINE std::optional<user> effective_user() { return user_by_uid(::geteuid()); }

}  // namespace ductile::users
#endif  // _WIN32
