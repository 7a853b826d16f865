#include "jobserver/auth.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "common.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail {

namespace {

bool parse_descriptor(std::string_view text, int& fd) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), fd);
  return error == std::errc() && end == text.data() + text.size() && fd >= 0;
}

// The value of the last `--name=` option, and that option's whole text.
bool last_option(std::string_view flags, std::string_view name, std::string_view& value, std::size_t& at) {
  bool found = false;
  for (std::size_t from = 0;;) {
    const std::size_t start = flags.find(name, from);
    if (start == std::string_view::npos) break;
    if (start == 0 || flags[start - 1] == ' ') {
      const std::size_t begin = start + name.size();
      const std::size_t end = std::min(flags.find(' ', begin), flags.size());
      value = flags.substr(begin, end - begin);
      at = start;
      found = true;
    }
    from = start + name.size();
  }
  return found;
}

}  // namespace

DUCTILE_INLINE jobserver_auth parse_jobserver_auth(std::string_view makeflags) {
  // Options come before a " -- " that starts command-line variable assignments.
  if (const std::size_t variables = makeflags.find(" -- "); variables != std::string_view::npos)
    makeflags = makeflags.substr(0, variables);
  jobserver_auth auth;
  std::string_view value;
  std::size_t at_auth = 0, at_fds = 0;
  std::string_view auth_value, fds_value;
  const bool has_auth = last_option(makeflags, "--jobserver-auth=", auth_value, at_auth);
  const bool has_fds = last_option(makeflags, "--jobserver-fds=", fds_value, at_fds);
  if (!has_auth && !has_fds) return auth;
  const bool use_auth = has_auth && (!has_fds || at_auth > at_fds);
  value = use_auth ? auth_value : fds_value;
  auth.text = std::string(use_auth ? "--jobserver-auth=" : "--jobserver-fds=") + std::string(value);
  if (value.substr(0, 5) == "fifo:") {
    if (value.size() == 5) return auth;
    auth.kind = jobserver_auth::style::fifo;
    auth.fifo_path = std::string(value.substr(5));
    return auth;
  }
  const std::size_t comma = value.find(',');
  if (comma == std::string_view::npos) return auth;
  if (!parse_descriptor(value.substr(0, comma), auth.read_fd) ||
      !parse_descriptor(value.substr(comma + 1), auth.write_fd))
    return auth;
  auth.kind = jobserver_auth::style::descriptors;
  return auth;
}

DUCTILE_INLINE std::string served_makeflags(const std::string& fifo_path, int read_fd, int write_fd) {
  return " -j --jobserver-auth=fifo:" + fifo_path + " --jobserver-auth=" + std::to_string(read_fd) + "," +
         std::to_string(write_fd);
}

DUCTILE_INLINE int keep_off_jobserver_numbers(int fd) noexcept {
  const char* makeflags = ::getenv("MAKEFLAGS");
  if (fd < 0 || makeflags == nullptr) return fd;
  jobserver_auth auth;
  try {
    auth = parse_jobserver_auth(makeflags);
  } catch (...) {
    return fd;  // out of memory: left where it is
  }
  if (auth.kind != jobserver_auth::style::descriptors || (fd != auth.read_fd && fd != auth.write_fd)) return fd;
  return sys::move_descriptor_up(fd, std::max(auth.read_fd, auth.write_fd) + 1);
}

}  // namespace ductile::detail
