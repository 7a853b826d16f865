#include <ductile/caps.hpp>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "doctest.hpp"

using namespace ductile;
using caps::capability;

namespace {
// The golden table was measured with libcap 2.66 on a kernel whose last capability is 40.
constexpr int golden_bits = 41;

std::uint64_t status_mask(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1), nullptr, 16);
  return 0;
}
}  // namespace

TEST_CASE("names round-trip with libcap's spelling, and every spelling parses") {
  for (int n = 0; n < caps::named_count; ++n) {
    const auto c = static_cast<capability>(n);
    CHECK(caps::from_string(caps::to_string(c)) == c);
  }
  CHECK(caps::to_string(capability::net_bind_service) == "cap_net_bind_service");
  CHECK(caps::to_string(capability::checkpoint_restore) == "cap_checkpoint_restore");
  CHECK(caps::from_string("CAP_NET_RAW") == capability::net_raw);
  CHECK(caps::from_string("net_raw") == capability::net_raw);
  CHECK(caps::from_string("Sys_Admin") == capability::sys_admin);
  CHECK(caps::from_string("10") == capability::net_bind_service);
  CHECK(!caps::from_string("cap_foo"));
  CHECK(!caps::from_string("64"));
  CHECK(!caps::from_string(""));
}

TEST_CASE("sets are constexpr values with set operations and iteration") {
  constexpr caps::set a{capability::chown, capability::kill};
  constexpr caps::set b{capability::kill, capability::net_raw};
  static_assert((a | b).size() == 3);
  static_assert((a & b) == caps::set{capability::kill});
  static_assert((a - b) == caps::set{capability::chown});
  static_assert(a.contains(capability::chown) && !a.contains(capability::net_raw));
  std::string seen;
  for (capability c : a | b) seen += std::string(caps::to_string(c)) + ";";
  CHECK(seen == "cap_chown;cap_kill;cap_net_raw;");
  CHECK(caps::to_string(a) == "cap_chown,cap_kill");
  CHECK(caps::parse_set("cap_chown,KILL,13") == (a | caps::set{capability::net_raw}));
  CHECK_THROWS_AS(caps::parse_set("cap_chown,nope"), caps::text_error);
  caps::set c;
  c.insert(capability::bpf).erase(capability::bpf);
  CHECK(c.empty());
}

TEST_CASE("the text format matches libcap on every golden row") {
  std::ifstream golden(DUCTILE_TEST_DATA "/captext-golden.tsv");
  REQUIRE(golden);
  std::string line;
  std::getline(golden, line);  // the header
  int rows = 0;
  while (std::getline(golden, line)) {
    const auto tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    const std::string input = line.substr(0, tab);
    const std::string expected = line.substr(tab + 1);
    CAPTURE(input);
    if (expected.rfind("OK ", 0) == 0) {
      const auto parsed = caps::detail::parse_text_for(input, golden_bits);
      CHECK(caps::detail::to_text_for(parsed, golden_bits) == expected.substr(3));
    } else {
      CHECK_THROWS_AS(caps::detail::parse_text_for(input, golden_bits), caps::text_error);
    }
    ++rows;
  }
  CHECK(rows == 39);
}

TEST_CASE("parse(print(s)) == s over random states") {
  std::mt19937_64 random(4040);
  for (int i = 0; i < 5000; ++i) {
    // Mostly sparse states, some dense ones, and some with bits the kernel does not name.
    auto pick = [&] {
      std::uint64_t m = random();
      switch (random() % 4) {
        case 0: m &= random() & random(); break;
        case 1: m = ~(random() & random()); break;
        case 2: m &= (std::uint64_t{1} << golden_bits) - 1; break;
        default: break;
      }
      return caps::set::from_mask(m);
    };
    const caps::state s{pick(), pick(), pick()};
    const std::string text = caps::detail::to_text_for(s, golden_bits);
    CAPTURE(text);
    CHECK(caps::detail::parse_text_for(text, golden_bits) == s);
  }
}

TEST_CASE("the thread's state agrees with /proc/self/status") {
  const caps::state now = caps::current();
  CHECK(now.effective.mask() == status_mask("CapEff"));
  CHECK(now.permitted.mask() == status_mask("CapPrm"));
  CHECK(now.inheritable.mask() == status_mask("CapInh"));
  CHECK(caps::bounding().mask() == status_mask("CapBnd"));
  CHECK(caps::ambient().mask() == status_mask("CapAmb"));
  std::ifstream last("/proc/sys/kernel/cap_last_cap");
  int expected = 0;
  last >> expected;
  CHECK(caps::last_supported() == expected);
  CHECK(caps::ambient_supported());
  CHECK(caps::parse_text(caps::to_text(now)) == now);
}

TEST_CASE("changes that cannot be applied whole fail before changing anything") {
  const caps::state before = caps::current();
  const caps::set missing =
      caps::set::from_mask(~before.permitted.mask() & ((std::uint64_t{1} << caps::named_count) - 1));
  if (missing.empty()) {
    MESSAGE("skipped: this process has every capability, so none can be missing");
    return;
  }
  // Raising a capability this process does not have must fail without raising any other.
  CHECK_THROWS_AS(caps::raise_ambient(missing | caps::set{capability::chown}), caps::error);
  CHECK(caps::ambient() == caps::set{});
  CHECK(caps::current() == before);
}

TEST_CASE("keep_caps, securebits and no_new_privs can be read") {
  CHECK_NOTHROW((void)caps::keep_caps());
  CHECK_NOTHROW((void)caps::securebits());
  CHECK(!caps::no_new_privs());
}
