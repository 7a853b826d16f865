// Capabilities through raw system calls, and libcap's text format reproduced
// clause by clause so that parse_text/to_text agree with cap_from_text and
// cap_to_text byte for byte. Standard library and libc only.

#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ductile/caps.hpp>

#include "common.hpp"

namespace ductile::caps {
namespace detail {

// libcap's flag bits, in the order that decides its canonical output.
inline constexpr int flag_effective = 1;
inline constexpr int flag_permitted = 2;
inline constexpr int flag_inheritable = 4;
inline constexpr int all_bits = 64;

struct masks {
  std::uint64_t e = 0, p = 0, i = 0;
};

DUCTILE_INLINE std::uint64_t named_mask(int max_bits) {
  return max_bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << max_bits) - 1;
}

// Matches a libcap name case-insensitively; the text must not go on with a name character.
DUCTILE_INLINE const char* match_name(const char* text, std::string_view name) {
  std::size_t k = 0;
  while (k < name.size() && std::tolower(static_cast<unsigned char>(*text)) == name[k]) {
    ++text;
    ++k;
  }
  if (k < name.size() || std::isalnum(static_cast<unsigned char>(*text)) || *text == '_') return nullptr;
  return text;
}

DUCTILE_INLINE int lookup_name(const char*& text, int max_bits) {
  if (std::isdigit(static_cast<unsigned char>(*text))) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(text, &end, 0);
    if (n >= static_cast<unsigned long>(all_bits)) return -1;
    text = end;
    return static_cast<int>(n);
  }
  const int known = max_bits < named_count ? max_bits : named_count;
  for (int n = 0; n < known; ++n) {
    if (const char* rest = match_name(text, names[n])) {
      text = rest;
      return n;
    }
  }
  return -1;
}

DUCTILE_INLINE state parse_text_for(std::string_view input, int max_bits) {
  const std::string copy(input);  // libcap reads a C string: it stops at a NUL
  const char* const start = copy.c_str();
  const char* str = start;
  masks result;
  auto bad = [&]() -> state {
    throw text_error("invalid capability text \"" + copy + "\" at position " + std::to_string(str - start),
                     static_cast<std::size_t>(str - start));
  };
  for (;;) {
    std::uint64_t list = 0;
    int flags = 0;
    bool listed = false;
    while (std::isspace(static_cast<unsigned char>(*str))) ++str;
    if (*str == '\0') return state{set::from_mask(result.e), set::from_mask(result.p), set::from_mask(result.i)};

    if (std::isalnum(static_cast<unsigned char>(*str)) || *str == '_') {
      for (;;) {
        if (const char* rest = match_name(str, "all")) {
          str = rest;
          list = named_mask(max_bits);  // libcap overwrites the list here
        } else {
          const int n = lookup_name(str, max_bits);
          if (n < 0) return bad();
          list |= std::uint64_t{1} << n;
        }
        if (*str != ',') break;
        ++str;
        if (!std::isalnum(static_cast<unsigned char>(*str)) && *str != '_') return bad();
      }
      listed = true;
    } else if (*str == '+' || *str == '-') {
      return bad();
    } else {
      list = named_mask(max_bits);
    }

    char op = *str++;
    if (op == '=' && (*str == '+' || *str == '-')) {
      if (!listed) return bad();
      op = (*str++ == '+') ? 'P' : 'M';
    } else if (op != '+' && op != '-' && op != '=') {
      --str;
      return bad();
    }

    do {
      if (*str != '\0' && !std::isspace(static_cast<unsigned char>(*str))) {
        switch (*str++) {
          case 'e': flags |= flag_effective; break;
          case 'i': flags |= flag_inheritable; break;
          case 'p': flags |= flag_permitted; break;
          default: --str; return bad();
        }
      } else if (op != '=') {
        return bad();
      }
      bool minus = op == '-';
      if (op == '=' || op == 'P' || op == 'M') {
        result.e &= ~list;
        result.p &= ~list;
        result.i &= ~list;
        minus = op == 'M';
      }
      if (minus) {
        if (flags & flag_effective) result.e &= ~list;
        if (flags & flag_permitted) result.p &= ~list;
        if (flags & flag_inheritable) result.i &= ~list;
      } else {
        if (flags & flag_effective) result.e |= list;
        if (flags & flag_permitted) result.p |= list;
        if (flags & flag_inheritable) result.i |= list;
      }
      if (*str == '+' || *str == '-') {
        if (!listed) return bad();
        flags = 0;
        op = *str++;
        if (!std::isalpha(static_cast<unsigned char>(*str))) return bad();
      }
    } while (*str != '\0' && !std::isspace(static_cast<unsigned char>(*str)));
  }
}

DUCTILE_INLINE int state_flags(const state& s, int n) {
  const auto c = static_cast<capability>(n);
  return (s.effective.contains(c) ? flag_effective : 0) | (s.permitted.contains(c) ? flag_permitted : 0) |
         (s.inheritable.contains(c) ? flag_inheritable : 0);
}

DUCTILE_INLINE std::string flag_letters(int flags) {
  std::string letters;
  if (flags & flag_effective) letters += 'e';
  if (flags & flag_inheritable) letters += 'i';
  if (flags & flag_permitted) letters += 'p';
  return letters;
}

DUCTILE_INLINE std::string bit_name(int n) { return n < named_count ? std::string(names[n]) : std::to_string(n); }

DUCTILE_INLINE std::string to_text_for(const state& s, int max_bits) {
  int histogram[8] = {};
  for (int n = 0; n < max_bits; ++n) ++histogram[state_flags(s, n)];
  // The most common combination among the named bits becomes the "=..." default,
  // preferring fewer flags on a tie, as libcap does.
  int m = 7;
  for (int t = 7; t--;)
    if (histogram[t] >= histogram[m]) m = t;

  std::string out = "=" + flag_letters(m);
  std::size_t base = 0;
  for (int t = 8; t--;) {
    if (t == m || histogram[t] == 0) continue;
    out += ' ';
    std::string listed;
    for (int n = 0; n < max_bits; ++n)
      if (state_flags(s, n) == t) listed += (listed.empty() ? "" : ",") + bit_name(n);
    out += listed;
    if (const int raised = t & ~m) {
      char op = '+';
      if (out.compare(base, 2, "= ") == 0) {
        // "= a,b+ep" is written "a,b=ep": equivalent and shorter.
        base += 2;
        op = '=';
      }
      out += op + flag_letters(raised);
    }
    if (const int lowered = ~t & m) out += '-' + flag_letters(lowered);
  }
  // Bits the kernel does not know are listed by number, and only as raised.
  int rest[8] = {};
  for (int n = max_bits; n < all_bits; ++n) ++rest[state_flags(s, n)];
  for (int t = 8; t-- > 1;) {
    if (rest[t] == 0) continue;
    out += ' ';
    std::string listed;
    for (int n = max_bits; n < all_bits; ++n)
      if (state_flags(s, n) == t) listed += (listed.empty() ? "" : ",") + bit_name(n);
    out += listed + "+" + flag_letters(t);
  }
  return out.substr(base);
}

// --- system calls

struct capability_header {
  std::uint32_t version;
  int pid;
};
struct capability_data {
  std::uint32_t effective, permitted, inheritable;
};
inline constexpr std::uint32_t capability_version_3 = 0x20080522;

[[noreturn]] DUCTILE_INLINE void fail(const std::string& operation, int code = errno) { throw error(code, operation); }

#if defined(__linux__)
DUCTILE_INLINE int checked_prctl(const std::string& operation, int option, unsigned long a = 0, unsigned long b = 0) {
  const int result = ::prctl(option, a, b, 0UL, 0UL);
  if (result < 0) fail(operation);
  return result;
}
#endif
}  // namespace detail

DUCTILE_INLINE std::optional<capability> from_string(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    unsigned n = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<unsigned>(c - '0');
      if (n >= 64) return std::nullopt;
    }
    return static_cast<capability>(n);
  }
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.compare(0, 4, "cap_") != 0) lower = "cap_" + lower;
  for (int n = 0; n < named_count; ++n)
    if (detail::names[n] == lower) return static_cast<capability>(n);
  return std::nullopt;
}

DUCTILE_INLINE std::string to_string(set s) {
  std::string out;
  for (capability c : s) {
    if (!out.empty()) out += ',';
    out += detail::bit_name(static_cast<int>(c));
  }
  return out;
}

DUCTILE_INLINE set parse_set(std::string_view text) {
  set result;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const std::size_t comma = text.find(',', start);
    const std::string_view name = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    const auto c = from_string(name);
    if (!c) throw text_error("unknown capability \"" + std::string(name) + "\"", start);
    result.insert(*c);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return result;
}

#if defined(__linux__)
DUCTILE_INLINE state parse_text(std::string_view text) { return detail::parse_text_for(text, last_supported() + 1); }
DUCTILE_INLINE std::string to_text(const state& s) { return detail::to_text_for(s, last_supported() + 1); }

DUCTILE_INLINE int last_supported() {
  static const int last = [] {
    const int fd = ::open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buffer[16] = {};
      const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
      ::close(fd);
      if (n > 0) return std::atoi(buffer);
    }
    // No /proc: the highest number the bounding set answers for.
    int c = 0;
    while (c < 63 && ::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(c + 1), 0UL, 0UL, 0UL) >= 0) ++c;
    return c;
  }();
  return last;
}

DUCTILE_INLINE bool ambient_supported() {
  return ::prctl(PR_CAP_AMBIENT, static_cast<unsigned long>(PR_CAP_AMBIENT_IS_SET), 0UL, 0UL, 0UL) >= 0;
}

DUCTILE_INLINE state current() {
  detail::capability_header header{detail::capability_version_3, 0};
  detail::capability_data data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) detail::fail("capget");
  auto join = [](std::uint32_t low, std::uint32_t high) {
    return set::from_mask(std::uint64_t{low} | (std::uint64_t{high} << 32));
  };
  return state{join(data[0].effective, data[1].effective), join(data[0].permitted, data[1].permitted),
               join(data[0].inheritable, data[1].inheritable)};
}

DUCTILE_INLINE void apply(const state& s) {
  detail::capability_header header{detail::capability_version_3, 0};
  detail::capability_data data[2] = {};
  for (int word = 0; word < 2; ++word) {
    data[word].effective = static_cast<std::uint32_t>(s.effective.mask() >> (32 * word));
    data[word].permitted = static_cast<std::uint32_t>(s.permitted.mask() >> (32 * word));
    data[word].inheritable = static_cast<std::uint32_t>(s.inheritable.mask() >> (32 * word));
  }
  if (::syscall(SYS_capset, &header, data) != 0) detail::fail("capset " + to_text(s));
}

DUCTILE_INLINE set bounding() {
  set result;
  for (int c = 0; c <= last_supported(); ++c)
    if (::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(c), 0UL, 0UL, 0UL) == 1)
      result.insert(static_cast<capability>(c));
  return result;
}

DUCTILE_INLINE void drop_bounding(set caps) {
  if (!current().effective.contains(capability::setpcap))
    throw error(EPERM, "drop " + to_string(caps) + " from the bounding set: needs cap_setpcap");
  for (capability c : caps) {
    if (static_cast<int>(c) > last_supported()) continue;
    detail::checked_prctl("drop " + detail::bit_name(static_cast<int>(c)) + " from the bounding set", PR_CAPBSET_DROP,
                          static_cast<unsigned long>(c));
  }
}

DUCTILE_INLINE set ambient() {
  set result;
  if (!ambient_supported()) return result;
  for (int c = 0; c <= last_supported(); ++c)
    if (::prctl(PR_CAP_AMBIENT, static_cast<unsigned long>(PR_CAP_AMBIENT_IS_SET), static_cast<unsigned long>(c), 0UL,
                0UL) == 1)
      result.insert(static_cast<capability>(c));
  return result;
}

DUCTILE_INLINE void raise_ambient(set caps) {
  if (!ambient_supported()) throw error(EINVAL, "raise ambient capabilities: the kernel does not support them");
  const state now = current();
  for (capability c : caps) {
    if (!now.permitted.contains(c) || !now.inheritable.contains(c))
      throw error(EPERM, "raise " + detail::bit_name(static_cast<int>(c)) +
                             " in the ambient set: it must be permitted and inheritable");
  }
  for (capability c : caps)
    detail::checked_prctl("raise " + detail::bit_name(static_cast<int>(c)) + " in the ambient set", PR_CAP_AMBIENT,
                          PR_CAP_AMBIENT_RAISE, static_cast<unsigned long>(c));
}

DUCTILE_INLINE void lower_ambient(set caps) {
  if (!ambient_supported()) return;
  for (capability c : caps)
    detail::checked_prctl("lower " + detail::bit_name(static_cast<int>(c)) + " in the ambient set", PR_CAP_AMBIENT,
                          PR_CAP_AMBIENT_LOWER, static_cast<unsigned long>(c));
}

DUCTILE_INLINE void clear_ambient() {
  if (ambient_supported()) detail::checked_prctl("clear the ambient set", PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL);
}

DUCTILE_INLINE bool keep_caps() { return detail::checked_prctl("read keep-caps", PR_GET_KEEPCAPS) == 1; }
DUCTILE_INLINE void set_keep_caps(bool keep) { detail::checked_prctl("set keep-caps", PR_SET_KEEPCAPS, keep ? 1 : 0); }
DUCTILE_INLINE unsigned securebits() {
  return static_cast<unsigned>(detail::checked_prctl("read securebits", PR_GET_SECUREBITS));
}
DUCTILE_INLINE void set_securebits(unsigned bits) { detail::checked_prctl("set securebits", PR_SET_SECUREBITS, bits); }
DUCTILE_INLINE bool no_new_privs() { return detail::checked_prctl("read no_new_privs", PR_GET_NO_NEW_PRIVS) == 1; }
DUCTILE_INLINE void set_no_new_privs() { detail::checked_prctl("set no_new_privs", PR_SET_NO_NEW_PRIVS, 1); }
#endif  // __linux__

}  // namespace ductile::caps
