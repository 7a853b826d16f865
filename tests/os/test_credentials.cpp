#include <sys/stat.h>

#include <atomic>
#include <ductile/caps.hpp>
#include <ductile/users.hpp>
#include <map>

#include "support.hpp"

using namespace ductile;
using caps::capability;
// Children here run as other users, who may not reach the build tree.
template <class... Args>
expression helper(const char* name, const Args&... args) {
  return test::reachable_helper(name, args...);
}

namespace {
std::map<std::string, std::string> credentials_of(const expression& e) {
  std::map<std::string, std::string> fields;
  std::istringstream in(e.read());
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == '\t' || value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    fields[line.substr(0, colon)] = value;
  }
  return fields;
}

std::uint64_t hex(const std::string& text) { return std::stoull(text, nullptr, 16); }

// Switching users needs these in the effective set; root is not assumed to have them.
bool can_switch_ids() {
  const auto now = caps::current().effective;
  return now.contains(capability::setuid) && now.contains(capability::setgid);
}

std::string expect_spawn_error(const expression& e, std::string& step) {
  try {
    e.run();
  } catch (const spawn_error& error) {
    step = error.step();
    return error.what();
  }
  FAIL("expected spawn_error");
  return {};
}

// A user and groups made for one test and always removed.
struct temporary_account {
  std::string user = "ductile_t" + std::to_string(getpid() % 100000);
  std::vector<std::string> groups{user + "a", user + "b"};
  bool made = false;
  temporary_account() {
    if (::access("/usr/sbin/useradd", X_OK) != 0) return;
    for (const auto& g : groups) cmd("groupadd", g).stdout_null().stderr_null().unchecked().run();
    made = cmd("useradd", "-M", "-N", "-G", groups[0] + "," + groups[1], user)
               .stderr_null()
               .unchecked()
               .run()
               .status.success();
  }
  ~temporary_account() {
    cmd("userdel", user).stdout_null().stderr_null().unchecked().run();
    for (const auto& g : groups) cmd("groupdel", g).stdout_null().stderr_null().unchecked().run();
  }
};
}  // namespace

TEST_CASE("user lookups: root, nobody and a missing user") {
  const auto root = users::user_by_name("root");
  REQUIRE(root);
  CHECK(root->uid == 0);
  CHECK(root->home == "/root");
  CHECK(users::user_by_uid(0)->name == "root");
  const auto nobody = users::user_by_name("nobody");
  REQUIRE(nobody);
  CHECK(nobody->uid == 65534);
  CHECK(!users::user_by_name("no-such-user-ductile"));
  CHECK(!users::group_by_name("no-such-group-ductile"));
  CHECK(users::group_by_gid(0)->name == "root");
  CHECK(users::current_uid() == ::getuid());
  CHECK(users::effective_gid() == ::getegid());
}

TEST_CASE("a user's group list never holds a stray root group") {
  const auto nobody = users::user_by_name("nobody");
  REQUIRE(nobody);
  const auto groups = users::group_list("nobody", nobody->gid);
  CHECK(std::find(groups.begin(), groups.end(), gid_t{0}) == groups.end());
  CHECK(std::find(groups.begin(), groups.end(), nobody->gid) != groups.end());
  CHECK_NOTHROW(users::process_groups());
}

TEST_CASE("an unknown user or group is a spawn_error before anything runs") {
  test::leak_check check;
  std::string step;
  CHECK(expect_spawn_error(cmd("true").user("no-such-user-ductile"), step).find("unknown user") != std::string::npos);
  CHECK(step == "user");
  CHECK(expect_spawn_error(cmd("true").group("no-such-group-ductile"), step).find("unknown group") !=
        std::string::npos);
  CHECK(step == "group");
  CHECK(expect_spawn_error(cmd("true").user(uid_t{4242424}), step).find("no passwd entry") != std::string::npos);
}

TEST_CASE("round 3 defect 3: user(-1), group(-1) and groups({-1}) are refused, naming the value") {
  const auto refused = [](auto make, const char* what) {
    try {
      (void)make();
      FAIL(what << " was accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find(what) == 0);
      CHECK(std::string(e.what()).find("4294967295") != std::string::npos);
    }
  };
  refused([] { return cmd("id").user(static_cast<uid_t>(-1)); }, "user()");
  refused([] { return cmd("id").user(65534).group(static_cast<gid_t>(-1)); }, "group()");
  refused([] { return cmd("id").groups(std::vector<gid_t>{65534, static_cast<gid_t>(-1)}); }, "groups()");
  // The largest real ids are still ids.
  CHECK_NOTHROW((void)cmd("id").user(static_cast<uid_t>(-2)).group(static_cast<gid_t>(-2)));
}

TEST_CASE("running as the current user is allowed without privileges") {
  test::leak_check check;
  const auto me = users::effective_user();
  REQUIRE(me);
  auto fields = credentials_of(helper("show_credentials").user(me->name));
  CHECK(fields["Uid"].substr(0, fields["Uid"].find('\t')) == std::to_string(me->uid));
}

#if DUCTILE_POSIX_BACKEND
TEST_CASE("the POSIX backend refuses capabilities and no_new_privs as not supported on this system") {
  test::leak_check check;
  std::string step;
  const caps::set some{capability::net_bind_service};
  CHECK(expect_spawn_error(cmd("true").keep_caps(some), step).find("not supported on this system") !=
        std::string::npos);
  CHECK(step == "keep caps");
  CHECK(expect_spawn_error(cmd("true").bounding_caps(some), step).find("not supported on this system") !=
        std::string::npos);
  CHECK(step == "bounding caps");
  CHECK(expect_spawn_error(cmd("true").no_new_privs(), step).find("not supported on this system") != std::string::npos);
  CHECK(step == "no_new_privs");
}
#endif

#if !DUCTILE_POSIX_BACKEND
TEST_CASE("keeping a capability the parent lacks names it") {
  test::leak_check check;
  const auto permitted = caps::current().permitted;
  std::optional<capability> missing;
  for (int n = 0; n <= caps::last_supported() && n < caps::named_count; ++n)
    if (!permitted.contains(static_cast<capability>(n))) missing = static_cast<capability>(n);
  if (!missing) {
    MESSAGE("skipped: this process has every capability");
    return;
  }
  std::string step;
  const std::string message = expect_spawn_error(cmd("true").keep_caps(caps::set{*missing}), step);
  CHECK(message.find("cannot keep " + std::string(caps::to_string(*missing)) + ": this process does not have it") !=
        std::string::npos);
  CHECK(step == "keep caps");
}
#endif

TEST_CASE("umask and new_session apply to the child") {
  test::leak_check check;
  auto fields = credentials_of(helper("show_credentials").umask(027).new_session());
  CHECK(fields["Umask"] == "0027");
  CHECK(fields["SessionLeader"] == "1");
  CHECK(credentials_of(helper("show_credentials"))["SessionLeader"] == "0");
}

#if !DUCTILE_POSIX_BACKEND
TEST_CASE("no_new_privs reaches the child and not the parent") {
  test::leak_check check;
  CHECK(credentials_of(helper("show_credentials").no_new_privs())["NoNewPrivs"] == "1");
  CHECK(!caps::no_new_privs());
}
#endif

TEST_CASE("as root: user(nobody) has nobody's ids, no other groups, no capabilities") {
  if (!can_switch_ids()) {
    MESSAGE("skipped: this process cannot switch user (needs cap_setuid and cap_setgid)");
    return;
  }
  test::leak_check check;
  auto fields = credentials_of(helper("show_credentials").user("nobody"));
  CHECK(fields["Uid"] == "65534\t65534\t65534\t65534");
  CHECK(fields["Gid"] == "65534\t65534\t65534\t65534");
  CHECK((fields["Groups"].empty() || fields["Groups"] == "65534"));
  CHECK(hex(fields["CapPrm"]) == 0);
  CHECK(hex(fields["CapEff"]) == 0);
  CHECK(hex(fields["CapAmb"]) == 0);
}

#if !DUCTILE_POSIX_BACKEND
TEST_CASE("as root: nobody keeps exactly net_bind_service, and nothing else") {
  const auto now = caps::current();
  if (!can_switch_ids() || !now.effective.contains(capability::setpcap) ||
      !now.permitted.contains(capability::net_bind_service)) {
    MESSAGE("skipped: needs cap_setuid, cap_setgid, cap_setpcap and cap_net_bind_service");
    return;
  }
  test::leak_check check;
  test::temp_dir tmp;
  const auto secret = tmp / "secret";
  test::write_file(secret, "root only");
  ::chmod(secret.c_str(), 0600);
  ::chmod(tmp.path.c_str(), 0755);
  const caps::set kept{capability::net_bind_service};
  auto as_nobody = [&](expression e) { return e.user("nobody").keep_caps(kept).bounding_caps(kept).no_new_privs(); };
  auto fields = credentials_of(as_nobody(helper("show_credentials")));
  const std::uint64_t bit = std::uint64_t{1} << 10;
  CHECK(hex(fields["CapAmb"]) == bit);
  CHECK(hex(fields["CapPrm"]) == bit);
  CHECK(hex(fields["CapEff"]) == bit);
  CHECK(hex(fields["CapBnd"]) == bit);
  CHECK(hex(fields["CapInh"]) == bit);
  CHECK(fields["NoNewPrivs"] == "1");
  CHECK(fields["Uid"] == "65534\t65534\t65534\t65534");

  std::ifstream port_start("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int unprivileged_from = 1024;
  port_start >> unprivileged_from;
  if (unprivileged_from > 80) {
    CHECK(as_nobody(helper("try_privileged", "bind", 80)).read() == "ok");
    CHECK(helper("try_privileged", "bind", 80).user("nobody").read() == "denied");
  } else {
    MESSAGE("bind to port 80 not asserted: unprivileged ports start at " << unprivileged_from);
  }
  CHECK(as_nobody(helper("try_privileged", "raw")).read() == "denied");
  CHECK(as_nobody(helper("try_privileged", "chown", tmp / "secret")).read() == "denied");
  CHECK(as_nobody(helper("try_privileged", "read", tmp / "secret")).read() == "denied");
  // The parent keeps everything it had.
  CHECK(caps::current() == now);
}
#endif

TEST_CASE("as root: a user's supplementary groups are installed, never the parent's") {
  if (!can_switch_ids()) {
    MESSAGE("skipped: this process cannot switch user");
    return;
  }
  temporary_account account;
  if (!account.made) {
    MESSAGE("skipped: useradd is not available");
    return;
  }
  test::leak_check check;
  auto fields = credentials_of(helper("show_credentials").user(account.user));
  std::set<gid_t> groups;
  std::istringstream in(fields["Groups"]);
  for (gid_t g; in >> g;) groups.insert(g);
  const auto entry = users::user_by_name(account.user);
  REQUIRE(entry);
  CHECK(groups.count(users::group_by_name(account.groups[0])->gid) == 1);
  CHECK(groups.count(users::group_by_name(account.groups[1])->gid) == 1);
  CHECK(groups.count(0) == 0);
  auto explicit_groups =
      credentials_of(helper("show_credentials").user(account.user).groups(std::vector<std::string>{account.groups[1]}));
  CHECK(explicit_groups["Groups"] == std::to_string(users::group_by_name(account.groups[1])->gid));
  auto no_groups = credentials_of(helper("show_credentials").user(account.user).groups(std::vector<gid_t>{}));
  CHECK(no_groups["Groups"].empty());
}

TEST_CASE("as root: a failure in the child names its step in words") {
  if (!can_switch_ids()) {
    MESSAGE("skipped: this process cannot switch user");
    return;
  }
  test::leak_check check;
  const std::string out = helper("spawn_without", "cap_setgid", "nobody").read();
  CHECK(out.rfind("setgroups\n", 0) == 0);
  CHECK(out.find("cannot set the supplementary groups: this process lacks cap_setgid") != std::string::npos);
  const std::string uid_out = helper("spawn_without", "cap_setuid", "nobody").read();
  CHECK(uid_out.rfind("setresuid\n", 0) == 0);
  CHECK(uid_out.find("cannot switch to user nobody: this process lacks cap_setuid") != std::string::npos);
}

TEST_CASE("as root: eight threads spawning as nobody leave every thread's credentials alone") {
  if (!can_switch_ids()) {
    MESSAGE("skipped: this process cannot switch user");
    return;
  }
  test::leak_check check;
  const auto before = caps::current();
  const uid_t uid = ::geteuid();
  std::vector<std::thread> threads;
  std::atomic<int> as_nobody{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        try {
          if (helper("show_credentials").user("nobody").read().find("Uid:\t65534") != std::string::npos) ++as_nobody;
        } catch (const std::exception& e) {
          MESSAGE(e.what());  // counted as missing below; never an exception escaping a thread
        }
      }
      CHECK(::geteuid() == uid);
    });
  for (auto& thread : threads) thread.join();
  CHECK(as_nobody == 80);
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("Uid:", 0) == 0) CHECK(line.find("\t" + std::to_string(uid) + "\t") != std::string::npos);
  }
  CHECK(caps::current() == before);
}
