#pragma once
/// \file
/// Capability names and sets: constexpr values, no system calls. The part of
/// `<ductile/caps.hpp>` that expressions need, kept apart so that including
/// `<ductile/expression.hpp>` stays cheap.

#include <cstdint>
#include <initializer_list>
#include <optional>
// <string> also declares the iterator tags (libstdc++ and libc++ alike);
// all of <iterator> would cost more than the rest of this header.
#include <string>
#include <string_view>

namespace ductile::caps {

/// The 41 capabilities, numbered as the kernel numbers them.
enum class capability : std::uint8_t {
  chown = 0,
  dac_override,
  dac_read_search,
  fowner,
  fsetid,
  kill,
  setgid,
  setuid,
  setpcap,
  linux_immutable,
  net_bind_service,
  net_broadcast,
  net_admin,
  net_raw,
  ipc_lock,
  ipc_owner,
  sys_module,
  sys_rawio,
  sys_chroot,
  sys_ptrace,
  sys_pacct,
  sys_admin,
  sys_boot,
  sys_nice,
  sys_resource,
  sys_time,
  sys_tty_config,
  mknod,
  lease,
  audit_write,
  audit_control,
  setfcap,
  mac_override,
  mac_admin,
  syslog,
  wake_alarm,
  block_suspend,
  audit_read,
  perfmon,
  bpf,
  checkpoint_restore = 40
};

/// How many capabilities have names here; the kernel may know more (see last_supported()).
inline constexpr int named_count = 41;

namespace detail {
inline constexpr std::string_view names[named_count] = {"cap_chown",
                                                        "cap_dac_override",
                                                        "cap_dac_read_search",
                                                        "cap_fowner",
                                                        "cap_fsetid",
                                                        "cap_kill",
                                                        "cap_setgid",
                                                        "cap_setuid",
                                                        "cap_setpcap",
                                                        "cap_linux_immutable",
                                                        "cap_net_bind_service",
                                                        "cap_net_broadcast",
                                                        "cap_net_admin",
                                                        "cap_net_raw",
                                                        "cap_ipc_lock",
                                                        "cap_ipc_owner",
                                                        "cap_sys_module",
                                                        "cap_sys_rawio",
                                                        "cap_sys_chroot",
                                                        "cap_sys_ptrace",
                                                        "cap_sys_pacct",
                                                        "cap_sys_admin",
                                                        "cap_sys_boot",
                                                        "cap_sys_nice",
                                                        "cap_sys_resource",
                                                        "cap_sys_time",
                                                        "cap_sys_tty_config",
                                                        "cap_mknod",
                                                        "cap_lease",
                                                        "cap_audit_write",
                                                        "cap_audit_control",
                                                        "cap_setfcap",
                                                        "cap_mac_override",
                                                        "cap_mac_admin",
                                                        "cap_syslog",
                                                        "cap_wake_alarm",
                                                        "cap_block_suspend",
                                                        "cap_audit_read",
                                                        "cap_perfmon",
                                                        "cap_bpf",
                                                        "cap_checkpoint_restore"};
}  // namespace detail

/// libcap's name, such as "cap_net_bind_service"; "" for a number without a name.
constexpr std::string_view to_string(capability c) noexcept {
  const auto n = static_cast<int>(c);
  return n < named_count ? detail::names[n] : std::string_view();
}

/// Accepts "cap_x", "CAP_X", "x" in any case, and numbers 0 to 63.
std::optional<capability> from_string(std::string_view text) noexcept;

/// A set of capabilities: a value type over a 64-bit mask.
class set {
 public:
  class iterator {
   public:
    using value_type = capability;
    using difference_type = int;
    using reference = capability;
    using pointer = void;
    using iterator_category = std::forward_iterator_tag;
    constexpr iterator() noexcept = default;
    constexpr capability operator*() const noexcept { return static_cast<capability>(bit_); }
    constexpr iterator& operator++() noexcept {
      bit_ = next(mask_, bit_ + 1);
      return *this;
    }
    constexpr iterator operator++(int) noexcept {
      iterator before = *this;
      ++*this;
      return before;
    }
    friend constexpr bool operator==(iterator a, iterator b) noexcept { return a.bit_ == b.bit_; }
    friend constexpr bool operator!=(iterator a, iterator b) noexcept { return a.bit_ != b.bit_; }

   private:
    friend class set;
    constexpr iterator(std::uint64_t mask, int bit) noexcept : mask_(mask), bit_(next(mask, bit)) {}
    static constexpr int next(std::uint64_t mask, int bit) noexcept {
      while (bit < 64 && (mask & (std::uint64_t{1} << bit)) == 0) ++bit;
      return bit;
    }
    std::uint64_t mask_ = 0;
    int bit_ = 64;
  };

  constexpr set() noexcept = default;
  constexpr set(std::initializer_list<capability> list) noexcept {
    for (capability c : list) insert(c);
  }
  static constexpr set from_mask(std::uint64_t mask) noexcept {
    set s;
    s.mask_ = mask;
    return s;
  }
  constexpr std::uint64_t mask() const noexcept { return mask_; }
  constexpr bool contains(capability c) const noexcept { return (mask_ & bit(c)) != 0; }
  constexpr set& insert(capability c) noexcept {
    mask_ |= bit(c);
    return *this;
  }
  constexpr set& erase(capability c) noexcept {
    mask_ &= ~bit(c);
    return *this;
  }
  constexpr bool empty() const noexcept { return mask_ == 0; }
  constexpr int size() const noexcept {
    int n = 0;
    for (std::uint64_t m = mask_; m != 0; m &= m - 1) ++n;
    return n;
  }
  constexpr iterator begin() const noexcept { return iterator(mask_, 0); }
  constexpr iterator end() const noexcept { return iterator(mask_, 64); }

  friend constexpr set operator|(set a, set b) noexcept { return from_mask(a.mask_ | b.mask_); }
  friend constexpr set operator&(set a, set b) noexcept { return from_mask(a.mask_ & b.mask_); }
  friend constexpr set operator-(set a, set b) noexcept { return from_mask(a.mask_ & ~b.mask_); }
  constexpr set& operator|=(set other) noexcept { return *this = *this | other; }
  constexpr set& operator&=(set other) noexcept { return *this = *this & other; }
  constexpr set& operator-=(set other) noexcept { return *this = *this - other; }
  friend constexpr bool operator==(set a, set b) noexcept { return a.mask_ == b.mask_; }
  friend constexpr bool operator!=(set a, set b) noexcept { return a.mask_ != b.mask_; }

 private:
  static constexpr std::uint64_t bit(capability c) noexcept {
    return std::uint64_t{1} << (static_cast<unsigned>(c) & 63U);
  }
  std::uint64_t mask_ = 0;
};

}  // namespace ductile::caps
