#pragma once
/// \file
/// Linux capabilities with the C++ standard library and raw system calls only:
/// names, sets, libcap's text format, and the calling thread's state.
/// Usable on its own: no fmt, no range-v3, no libcap.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "caps_set.hpp"

namespace ductile::caps {

/// A malformed capability text; `position()` is the byte offset of the problem.
class text_error : public std::invalid_argument {
 public:
  text_error(const std::string& message, std::size_t position) : std::invalid_argument(message), position_(position) {}
  std::size_t position() const noexcept { return position_; }

 private:
  std::size_t position_;
};

/// A failed system call; the message names the operation (and capability).
class error : public std::system_error {
 public:
  error(int code, const std::string& operation) : std::system_error(code, std::generic_category(), operation) {}
};

/// "cap_chown,cap_kill": libcap's names, in numeric order, comma-separated.
std::string to_string(set s);
/// The reverse of to_string(set), accepting every spelling from_string() does.
set parse_set(std::string_view text);

/// The three sets of a thread: effective, permitted, inheritable.
struct state {
  set effective, permitted, inheritable;
  friend constexpr bool operator==(const state& a, const state& b) noexcept {
    return a.effective == b.effective && a.permitted == b.permitted && a.inheritable == b.inheritable;
  }
  friend constexpr bool operator!=(const state& a, const state& b) noexcept { return !(a == b); }
};

#if defined(__linux__)
/// Parses libcap's text format ("cap_net_raw,cap_net_admin+ep", "=ep cap_kill-e", ...)
/// exactly as libcap's cap_from_text does on this kernel.
state parse_text(std::string_view text);
/// Prints libcap's canonical form, exactly as libcap's cap_to_text does on this kernel.
std::string to_text(const state& s);
#endif

namespace detail {
// The text format for a kernel that knows `max_bits` capabilities (last + 1);
// the public functions use the running kernel's.
state parse_text_for(std::string_view text, int max_bits);
std::string to_text_for(const state& s, int max_bits);
}  // namespace detail

// The process's own capabilities are Linux's: absent on other systems.
#if defined(__linux__)
/// The last capability the running kernel supports (40 on Linux 5.9 and later).
int last_supported();
/// Whether the kernel supports ambient capabilities (Linux 4.3 and later).
bool ambient_supported();

/// The calling thread's effective, permitted and inheritable sets (capget).
state current();
/// Replaces the calling thread's sets (capset): applied whole or not at all.
void apply(const state& s);
/// The bounding set.
set bounding();
/// Removes `caps` from the bounding set; needs CAP_SETPCAP, checked before anything changes.
void drop_bounding(set caps);
/// The ambient set.
set ambient();
/// Raises `caps` in the ambient set; each must be permitted and inheritable, checked first.
void raise_ambient(set caps);
void lower_ambient(set caps);
void clear_ambient();
/// PR_SET_KEEPCAPS: keep permitted capabilities across a switch away from uid 0.
bool keep_caps();
void set_keep_caps(bool keep);
/// The securebits flags (SECBIT_*), read and written as a whole.
unsigned securebits();
void set_securebits(unsigned bits);
/// no_new_privs: once set, never cleared; exec can no longer grant privileges.
bool no_new_privs();
void set_no_new_privs();
#endif  // __linux__

}  // namespace ductile::caps
