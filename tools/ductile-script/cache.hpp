#pragma once
// Where compiled scripts are kept: a directory only this user can write. It
// is opened once, without following a link, and checked through that
// descriptor (owner, mode); everything after goes through the descriptor,
// never through the name again: the compiler writes through it, entries are
// opened and checked through it, and the binary that runs is the descriptor
// that was checked. Another user who controls a name on the way (a squatted
// /tmp entry, a link swapped while the compiler runs) can change nothing
// that is used.

#include <cstdint>
#include <string>
#include <string_view>

namespace ductile_script {

// An open descriptor, closed when it goes.
class descriptor {
 public:
  descriptor() = default;
  explicit descriptor(int fd) noexcept : fd_(fd) {}
  descriptor(descriptor&& other) noexcept : fd_(other.release()) {}
  descriptor& operator=(descriptor&& other) noexcept;
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  ~descriptor();
  int get() const noexcept { return fd_; }
  int release() noexcept;
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct cache {
  descriptor dir;
  std::string path;      // its name, for messages
  bool one_use = false;  // a fresh directory, removed before the script runs
  descriptor parent;     // where a one-use directory was made, to remove it
  std::string leaf;      // its name there
  std::string warning;   // why the preferred place was not used, if it was not
};

// The cache directory as the compiler, given it as descriptor 3, reaches it.
inline constexpr const char* child_cache_path = "/proc/self/fd/3";
inline constexpr int child_cache_fd = 3;

// $XDG_CACHE_HOME/ductile-script, else ~/.cache/ductile-script, else
// $XDG_RUNTIME_DIR/ductile-script, else $TMPDIR (or /tmp)/ductile-script-UID,
// each made 0700 and used only if it is a directory of this user's that
// nobody else can write; where none is, a fresh one-use directory.
// Throws std::runtime_error when not even that can be made.
cache open_cache();

// Whether `dir` (from open_cache or below it) is a directory this user owns
// and nobody else can write, seen through its descriptor.
bool private_to_me(int dir, std::string& problem, const std::string& path);

// The entry `name` in `dir`, opened without following a link, if it is one
// this user made: a regular, non-empty, executable file nobody else can
// write. An empty descriptor otherwise.
descriptor open_entry(int dir, const std::string& name);

// Removes a one-use cache and everything in it.
void remove_one_use(cache& c) noexcept;

// FNV-1a, 64 bits: enough to tell cache entries apart; the cache is private,
// so nobody chooses its inputs to collide.
std::uint64_t hash_of(std::string_view text, std::uint64_t seed = 0xcbf29ce484222325ULL);
std::string hex(std::uint64_t value);

}  // namespace ductile_script
