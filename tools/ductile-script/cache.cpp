#include "cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace ductile_script {

descriptor& descriptor::operator=(descriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

descriptor::~descriptor() {
  if (fd_ >= 0) ::close(fd_);
}

int descriptor::release() noexcept { return std::exchange(fd_, -1); }

namespace {

std::string error_text(int code) { return std::strerror(code); }

// `parent`/`leaf` made if missing and opened without following a link;
// empty, with `problem` saying why, unless it is private to this user.
descriptor private_directory_at(int parent, const std::string& leaf, const std::string& path, std::string& problem) {
  if (::mkdirat(parent, leaf.c_str(), 0700) != 0 && errno != EEXIST) {
    problem = "cannot make " + path + ": " + error_text(errno);
    return {};
  }
  descriptor dir(::openat(parent, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    struct stat st {};
    const bool link = ::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    problem = path + (link ? " is a symbolic link" : " cannot be opened as a directory: " + error_text(errno));
    return {};
  }
  if (!private_to_me(dir.get(), problem, path)) return {};
  return dir;
}

// `path` (absolute), its parents made as needed: a home or a cache the user
// named, whose parents are the user's own to arrange.
descriptor private_directory(const std::string& path, std::string& problem) {
  const std::size_t slash = path.rfind('/');
  const std::string parent_path = slash == 0 ? "/" : path.substr(0, slash);
  for (std::size_t at = path.find('/', 1); at != std::string::npos && at <= slash; at = path.find('/', at + 1))
    ::mkdir(path.substr(0, at).c_str(), 0700);
  descriptor parent(::open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent) {
    problem = "cannot make " + path + ": " + error_text(errno);
    return {};
  }
  return private_directory_at(parent.get(), path.substr(slash + 1), path, problem);
}

std::string absolute_variable(const char* name) {
  const char* value = ::getenv(name);
  return value != nullptr && value[0] == '/' ? std::string(value) : std::string();
}

void remove_contents(int dir) noexcept {
  const int copy = ::fcntl(dir, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return;
  DIR* listing = ::fdopendir(copy);
  if (listing == nullptr) {
    ::close(copy);
    return;
  }
  while (const dirent* entry = ::readdir(listing)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (::unlinkat(dir, name.c_str(), 0) == 0 || errno != EISDIR) continue;
    const descriptor below(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (below) remove_contents(below.get());
    ::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
  }
  ::closedir(listing);
}

}  // namespace

bool private_to_me(int dir, std::string& problem, const std::string& path) {
  struct stat st {};
  if (::fstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    problem = path + " is not a directory";
    return false;
  }
  if (st.st_uid != ::geteuid()) {
    problem = path + " belongs to uid " + std::to_string(st.st_uid) + ", not to this user";
    return false;
  }
  if ((st.st_mode & 022) != 0) {
    problem = path + " is not private to this user (others may write to it)";
    return false;
  }
  return true;
}

cache open_cache() {
  cache c;
  std::string problem;
  const std::string xdg = absolute_variable("XDG_CACHE_HOME");
  const std::string home = absolute_variable("HOME");
  struct stat st {};
  if (!xdg.empty())
    c.path = xdg + "/ductile-script";
  else if (home.empty())
    problem = "neither XDG_CACHE_HOME nor HOME is set";
  else if (::stat(home.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    problem = "the home directory " + home + " does not exist";  // never made here
  else
    c.path = home + "/.cache/ductile-script";
  if (!c.path.empty() && (c.dir = private_directory(c.path, problem))) return c;

  // Per-user and private, made by the login manager: nobody else can hold a name there.
  std::string fallback_problem;
  const std::string runtime = absolute_variable("XDG_RUNTIME_DIR");
  if (!runtime.empty()) {
    c.path = runtime + "/ductile-script";
    if ((c.dir = private_directory(c.path, fallback_problem))) {
      c.warning = "ductile-script: " + problem + "; using the private cache " + c.path;
      return c;
    }
  }

  std::string tmp = absolute_variable("TMPDIR");
  if (tmp.empty()) tmp = "/tmp";
  descriptor shared(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!shared)
    throw std::runtime_error("ductile-script: " + problem + "; cannot open " + tmp + ": " + error_text(errno));
  const std::string leaf = "ductile-script-" + std::to_string(::geteuid());
  c.path = tmp + "/" + leaf;
  if ((c.dir = private_directory_at(shared.get(), leaf, c.path, fallback_problem))) {
    c.warning = "ductile-script: " + problem + "; using the private cache " + c.path;
    return c;
  }

  // The name is another user's (or unusable): a fresh directory, used once
  // and removed, so that a squatter costs a compile and never fills /tmp.
  std::string fresh = tmp + "/ductile-script-XXXXXX";
  if (::mkdtemp(fresh.data()) == nullptr)
    throw std::runtime_error("ductile-script: " + problem + "; " + fallback_problem + "; cannot make " + fresh + ": " +
                             error_text(errno));
  c.leaf = fresh.substr(fresh.rfind('/') + 1);
  c.path = fresh;
  c.dir = descriptor(::openat(shared.get(), c.leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  std::string fresh_problem;
  if (!c.dir || !private_to_me(c.dir.get(), fresh_problem, fresh))
    throw std::runtime_error("ductile-script: " + problem + "; " + fallback_problem + "; " + fresh_problem);
  c.one_use = true;
  c.parent = std::move(shared);
  c.warning = "ductile-script: " + problem + "; " + fallback_problem + "; using the one-use cache " + fresh +
              " (removed before the script runs)";
  return c;
}

descriptor open_entry(int dir, const std::string& name) {
  descriptor entry(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!entry) return {};
  struct stat st {};
  if (::fstat(entry.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 || st.st_uid != ::geteuid() ||
      (st.st_mode & S_IXUSR) == 0 || (st.st_mode & 022) != 0)
    return {};
  return entry;
}

void remove_one_use(cache& c) noexcept {
  if (!c.one_use || !c.dir) return;
  remove_contents(c.dir.get());
  ::unlinkat(c.parent.get(), c.leaf.c_str(), AT_REMOVEDIR);
  c.one_use = false;
}

std::uint64_t hash_of(std::string_view text, std::uint64_t seed) {
  std::uint64_t hash = seed;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string hex(std::uint64_t value) {
  static const char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = digits[value & 15];
  return out;
}

}  // namespace ductile_script
