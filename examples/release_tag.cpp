#!/usr/bin/env ductile-script
// A release helper: refuses to tag a dirty tree, finds the latest vX.Y.Z tag,
// and proposes the next patch version. With --apply it creates the tag.
//
// usage: ./release_tag.cpp [--apply] [repository]
#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>

using namespace ductile;

int main(int argc, char** argv) {
  bool apply = false;
  std::string repository = ".";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--apply")
      apply = true;
    else
      repository = arg;
  }
  return script_main([&]() -> int {
    const auto git = [&](auto... args) { return cmd("git", "-C", repository, args...); };
    if (!git("status", "--porcelain").read().empty()) {
      std::fprintf(stderr, "release_tag: the work tree has uncommitted changes; commit or stash them first\n");
      return 1;
    }
    const std::string head = git("rev-parse", "--short", "HEAD").read();
    // No tag yet is not an error: describe fails (code 128), and we start from v0.0.0.
    const std::string latest =
        git("describe", "--tags", "--abbrev=0", "--match", "v*").stderr_null().ok_codes({0, 128}).read();
    int major = 0, minor = 0, patch = 0;
    std::sscanf(latest.c_str(), "v%d.%d.%d", &major, &minor, &patch);
    const std::string next = fmt::format("v{}.{}.{}", major, minor, patch + 1);
    const std::string changes =
        git("log", "--oneline", latest.empty() ? std::string("HEAD") : latest + "..HEAD").read();
    std::printf("latest tag: %s\nnext tag:   %s at %s\nchanges:\n%s\n", latest.empty() ? "(none)" : latest.c_str(),
                next.c_str(), head.c_str(), changes.c_str());
    if (!apply) {
      std::printf("(dry run; pass --apply to create the tag)\n");
      return 0;
    }
    git("tag", "-a", next, "-m", "Release " + next).run();
    std::printf("tagged %s\n", next.c_str());
    return 0;
  });
}
