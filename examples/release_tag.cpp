// A release helper: refuses to tag a dirty tree, finds the latest vX.Y.Z tag,
// and proposes the next patch version. With --apply it creates the tag.
//
// usage: release_tag [--apply] [repository]

#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>

namespace {

struct version {
  int major = 0, minor = 0, patch = 0;
};

version parse_version(const std::string& tag) {
  version v;
  if (std::sscanf(tag.c_str(), "v%d.%d.%d", &v.major, &v.minor, &v.patch) != 3) return version{};
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ductile;
  bool apply = false;
  std::string repository = ".";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--apply")
      apply = true;
    else
      repository = arg;
  }
  try {
    auto git = [&](auto... args) { return cmd("git", "-C", repository, args...); };
    if (!git("status", "--porcelain").read().empty()) {
      std::fprintf(stderr, "release_tag: the work tree has uncommitted changes; commit or stash them first\n");
      return 1;
    }
    const std::string head = git("rev-parse", "--short", "HEAD").read();
    // No tag yet is not an error: describe fails, and we start from v0.0.0.
    const output described =
        git("describe", "--tags", "--abbrev=0", "--match", "v*").stdout_capture().stderr_null().unchecked().run();
    std::string latest = described.stdout_bytes;
    while (!latest.empty() && latest.back() == '\n') latest.pop_back();
    const version last = parse_version(latest);
    const std::string next = fmt::format("v{}.{}.{}", last.major, last.minor, last.patch + 1);
    const std::string log_range = latest.empty() ? std::string("HEAD") : latest + "..HEAD";
    const std::string changes = git("log", "--oneline", log_range).read();
    std::printf("latest tag: %s\nnext tag:   %s at %s\nchanges:\n%s\n", latest.empty() ? "(none)" : latest.c_str(),
                next.c_str(), head.c_str(), changes.c_str());
    if (apply) {
      git("tag", "-a", next, "-m", "Release " + next).run();
      std::printf("tagged %s\n", next.c_str());
    } else {
      std::printf("(dry run; pass --apply to create the tag)\n");
    }
  } catch (const error& e) {
    std::fprintf(stderr, "release_tag: %s\n", e.what());
    return 1;
  }
  return 0;
}
