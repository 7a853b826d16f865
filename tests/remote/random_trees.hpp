#pragma once
// Random expression trees for the property that on() changes nothing but
// where a subtree runs: the same tree, run here and through on(host) or
// on(slurm), gives the same output, status and files.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <random>
#include <string>
#include <vector>

#include "support.hpp"

namespace remote_test {

using namespace ductile;
using namespace test;

// Random expression trees for the property below: every node kind that
// crosses to the far side, leaves that print hostile bytes, read stdin,
// exit with chosen codes or die of chosen signals. Files are written under
// `dir`, so that the same tree can run here and there side by side. The
// right side of a pipe always reads all its input (or is `head` after an
// endless writer): a writer racing a reader that never reads would die of
// SIGPIPE or not by chance, here as there.
class tree_generator {
 public:
  tree_generator(std::uint64_t seed, fs::path dir) : rng_(seed), dir_(std::move(dir)) {}

  expression tree(int depth) {
    if (depth == 0 || pick(4) == 0) return leaf();
    switch (pick(8)) {
      case 0:
      case 1: return tree(depth - 1) | reader(depth - 1);
      case 2:
      case 3: return tree(depth - 1).then(tree(depth - 1));
      case 4: {
        const fs::path file = dir_ / ("f" + std::to_string(files_++));
        return pick(2) == 0 ? tree(depth - 1).stdout_path(file).then(cmd("cat", file))
                            : tree(depth - 1).stdout_append(file).then(cmd("cat", file));
      }
      default: return modified(tree(depth - 1));
    }
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  int code() {
    static constexpr int codes[] = {0, 1, 2, 3, 7, 126, 141, 255};
    return codes[pick(static_cast<int>(std::size(codes)))];
  }
  std::string hostile() {
    static const char* const words[] = {"",     " ",          "a b",  "'",        "\"", "$HOME", "`id`", "\\",
                                        "*",    "\n",         "x\ty", "-n",       "--", "é",     ";",    "|",
                                        "&& x", "$(echo hi)", "%s%d", "\x01\x7f", "~",  "!",     "a=b"};
    return words[pick(static_cast<int>(std::size(words)))];
  }
  // A modifier that changes neither what is read nor what is written. Lists
  // of ok_codes hold 0 and no 128 + N: a failure whose code is 0 cannot
  // cross, and ok_codes() at the top of the subtree sees only the code of a
  // process a signal killed (docs/remote.md).
  expression modified(const expression& e) {
    static constexpr int accepted[] = {1, 2, 3, 7, 126, 255};
    switch (pick(5)) {
      case 0: return e.unchecked();
      case 1: return e.ok_codes({0, accepted[pick(static_cast<int>(std::size(accepted)))]});
      case 2: return e.timeout(std::chrono::seconds(30));
      case 3: return e.dir(pick(2) == 0 ? fs::path("/") : dir_);
      default: return pick(2) == 0 ? e.env("A", hostile()) : e.env_remove("A");
    }
  }
  // Reads all of its stdin.
  expression reader(int depth) {
    if (depth == 0 || pick(3) == 0) {
      switch (pick(4)) {
        case 0: return cmd("cat");
        case 1: return cmd("sh", "-c", "cat; exit \"$1\"", "sh", code());
        case 2: return cmd("wc", "-l");
        default: return cmd("sort");
      }
    }
    switch (pick(3)) {
      case 0: return reader(depth - 1) | reader(depth - 1);
      case 1: return reader(depth - 1).then(tree(depth - 1));
      default: return modified(reader(depth - 1));
    }
  }
  // Both streams of one process into one pipe keep their order; a merge of
  // streams that travel different ways would not.
  expression leaf() { return pick(5) == 0 ? plain_leaf().stderr_to_stdout() : plain_leaf(); }
  expression plain_leaf() {
    switch (pick(8)) {
      case 0: {
        std::vector<std::string> args{"[%s]\n"};
        for (int i = pick(4); i > 0; --i) args.push_back(hostile());
        return cmd("printf", args);
      }
      case 1:
        return cmd("sh", "-c", "printf 'out %s\\n' \"$2\"; printf 'err %s\\n' \"$2\" >&2; exit \"$1\"", "sh", code(),
                   hostile());
      case 2: {
        static const char* const signals[] = {"TERM", "KILL", "INT", "PIPE", "HUP"};
        return cmd("sh", "-c", "echo dying; kill -s \"$1\" $$", "sh", signals[pick(5)]);
      }
      case 3: return cmd("cat");
      case 4: return cmd("sh", "-c", "while :; do echo y; done") | cmd("head", "-n", std::to_string(1 + pick(3)));
      case 5: return cmd("sh", "-c", "printf '%s|\\n' \"${A-unset}\"");
      case 6: return cmd("pwd").dir(pick(2) == 0 ? fs::path("/") : dir_);  // the two sides start in other directories
      default: return cmd(pick(2) == 0 ? "true" : "false");
    }
  }

  std::mt19937_64 rng_;
  fs::path dir_;
  int files_ = 0;
};

struct outcome {
  std::string out, err, kind;
  int status = 0;  // the exit code, or 128 + the signal: what sh reports
};

// `text` with every `dir` in it written as <dir>: the two runs use two.
inline std::string without(const fs::path& dir, std::string text) {
  const std::string name = dir.string();
  for (std::size_t at = text.find(name); at != std::string::npos; at = text.find(name, at))
    text.replace(at, name.size(), "<dir>");
  return text;
}

inline outcome outcome_of(const expression& e, const fs::path& dir) {
  outcome result;
  const auto take = [&](const output& o) {
    result.out = without(dir, o.stdout_bytes);
    result.err = without(dir, o.stderr_bytes);
    result.status = o.status.code() ? *o.status.code() : 128 + o.status.signal().value_or(0);
  };
  try {
    take(e.stdin_bytes("typed\nlines\n").stdout_capture().stderr_capture().run());
    result.kind = "ok";
  } catch (const status_error& failure) {
    take(failure.output());
    result.kind = "status_error";
  } catch (const std::exception& failure) {
    result.kind = without(dir, failure.what());
  }
  return result;
}

// One exit code carries both the verdict and the code only when they agree
// (docs/remote.md): a success with a non-zero code (an unchecked failure
// inside) leaves the far side with 0.
inline bool same_status(const outcome& here, const outcome& there) {
  return here.status == there.status || (here.kind == "ok" && there.status == 0);
}

inline std::string files_in(const fs::path& dir) {
  std::string listing;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir)) paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) listing += path.filename().string() + ":" + without(dir, slurp(path)) + "\n";
  return listing;
}

// The property, for `trees` random trees (DUCTILE_PROPERTY_SEED replays a
// run): `place` puts a tree on the far side.
template <class Place>
void check_random_trees(Place place, int trees) {
  std::uint64_t seed = std::random_device{}();
  if (const char* given = std::getenv("DUCTILE_PROPERTY_SEED")) seed = std::stoull(given);
  MESSAGE("trees from seed " << seed << " (DUCTILE_PROPERTY_SEED=" << seed << " replays them)");
  std::mt19937_64 seeds(seed);
  for (int i = 0; i < trees; ++i) {
    const std::uint64_t tree_seed = seeds();
    temp_dir here, there;
    const expression local = tree_generator(tree_seed, here.path).tree(3);
    const expression remote = tree_generator(tree_seed, there.path).tree(3);
    CAPTURE(seed);
    CAPTURE(i);
    CAPTURE(to_string(local));
    const outcome expected = outcome_of(local, here.path);
    const outcome got = outcome_of(place(remote), there.path);
    CHECK(got.kind == expected.kind);
    CHECK(same_status(expected, got));
    CHECK(got.out == expected.out);
    CHECK(got.err == expected.err);
    CHECK(files_in(there.path) == files_in(here.path));
    if (got.kind != expected.kind || !same_status(expected, got) || got.out != expected.out || got.err != expected.err)
      break;  // one replayable failure is enough
  }
}

}  // namespace remote_test
