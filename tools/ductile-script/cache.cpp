#include "cache.hpp"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ductile_script {

namespace {

// Makes `path` and its parents; the last is 0700 and must be ours and private.
bool private_directory(const std::string& path, std::string& problem) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1))
    ::mkdir(path.substr(0, slash).c_str(), 0700);
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    problem = "cannot make " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    problem = path + " is not a directory";
    return false;
  }
  if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    problem = path + " is not private to this user";
    return false;
  }
  if (::access(path.c_str(), W_OK) != 0) {
    problem = path + " is not writable";
    return false;
  }
  return true;
}

}  // namespace

std::string cache_directory(std::string& warning) {
  std::string problem;
  const char* xdg = ::getenv("XDG_CACHE_HOME");
  const char* home = ::getenv("HOME");
  std::string wanted;
  struct stat st {};
  if (xdg != nullptr && xdg[0] == '/')
    wanted = std::string(xdg) + "/ductile-script";
  else if (home == nullptr || home[0] != '/')
    problem = "neither XDG_CACHE_HOME nor HOME is set";
  else if (::stat(home, &st) != 0 || !S_ISDIR(st.st_mode))
    problem = std::string("the home directory ") + home + " does not exist";  // never made here
  else
    wanted = std::string(home) + "/.cache/ductile-script";
  if (!wanted.empty() && private_directory(wanted, problem)) return wanted;

  const char* tmp = ::getenv("TMPDIR");
  std::string fallback =
      std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") + "/ductile-script-" + std::to_string(::geteuid());
  std::string second;
  if (!private_directory(fallback, second)) {
    // Someone else holds that name: a fresh one, used once.
    fallback = (tmp != nullptr && tmp[0] == '/' ? std::string(tmp) : std::string("/tmp")) + "/ductile-script-XXXXXX";
    if (::mkdtemp(fallback.data()) == nullptr) fallback.clear();
  }
  warning = "ductile-script: " + problem + "; using the private cache " + fallback;
  return fallback;
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

bool usable_entry(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_uid == ::geteuid() &&
         (st.st_mode & S_IXUSR) != 0;
}

}  // namespace ductile_script
