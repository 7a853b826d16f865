#include "build.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ductile/ductile.hpp>
#include <stdexcept>

#include "cache.hpp"
#include "script_paths.hpp"

namespace ductile_script {

namespace {

ductile::expression command_of(const std::vector<std::string>& words) {
  return ductile::cmd(words.front(), std::vector<std::string>(words.begin() + 1, words.end()));
}

std::string own_executable() {
  char path[4096];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return length > 0 ? std::string(path, static_cast<std::size_t>(length)) : std::string();
}

}  // namespace

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find(' ', at), text.size());
    if (end > at) out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

toolchain find_toolchain() {
  toolchain tools;
  // Run from the build tree, it compiles against that tree, as that build does.
  const std::string self = own_executable();
  const std::string build_dir = DUCTILE_SCRIPT_BUILD_DIR;
  const bool in_build_tree = self.compare(0, build_dir.size() + 1, build_dir + "/") == 0;
  const char* cxx = ::getenv("CXX");
  tools.compiler = cxx != nullptr && cxx[0] != '\0' ? cxx : in_build_tree ? DUCTILE_SCRIPT_BUILD_COMPILER : "c++";
  const auto found = ductile::which(tools.compiler);
  if (!found) throw std::runtime_error("ductile-script: cannot find the compiler " + tools.compiler + " (set CXX)");
  char resolved[4096];
  const std::string path = ::realpath(found->c_str(), resolved) != nullptr ? resolved : *found;
  struct stat st {};
  ::stat(path.c_str(), &st);
  tools.identity = path + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime);
  if (in_build_tree) tools.build_flags = words(DUCTILE_SCRIPT_BUILD_FLAGS);
  tools.include_dir = in_build_tree ? DUCTILE_SCRIPT_SOURCE_INCLUDE : DUCTILE_SCRIPT_INSTALLED_INCLUDE;
  tools.library_dir = in_build_tree ? DUCTILE_SCRIPT_BUILT_LIBRARY : DUCTILE_SCRIPT_INSTALLED_LIBRARY;
  // The build tree has the versioned file only; an installation has the
  // libductile.so link that -lductile finds.
  tools.library = in_build_tree ? DUCTILE_SCRIPT_BUILT_LIBRARY_FILE : "-lductile";
  return tools;
}

std::vector<std::string> base_flags(const toolchain& tools) {
  std::vector<std::string> flags{"-std=c++17", "-O1", "-pthread"};
  flags.insert(flags.end(), tools.build_flags.begin(), tools.build_flags.end());
  return flags;
}

std::vector<std::string> compile_command(const toolchain& tools, const script_source& script,
                                         const std::string& precompiled, const std::string& output) {
  std::vector<std::string> command{tools.compiler};
  for (const auto& flag : base_flags(tools)) command.push_back(flag);
  for (const auto& flag : script.flags) command.push_back(flag);
  command.push_back("-I" + tools.include_dir);
  if (!precompiled.empty()) {
    command.push_back("-include");
    command.push_back(precompiled);
  }
  for (const char* word : {"-x", "c++", "-", "-x", "none", "-o"}) command.push_back(word);
  command.push_back(output);
  command.push_back("-L" + tools.library_dir);
  command.push_back("-Wl,-rpath," + tools.library_dir);
  command.push_back(tools.library);
  command.push_back("-lfmt");
  for (const auto& option : script.link) command.push_back(option);
  return command;
}

namespace {

// `name` in `dir`, opened without following a link: a regular, non-empty
// file of this user's that nobody else can write.
bool trusted_file(int dir, const std::string& name) {
  const descriptor file(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  return file && ::fstat(file.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_uid == ::geteuid() &&
         (st.st_mode & 022) == 0;
}

}  // namespace

std::string precompiled_header(const toolchain& tools, const script_source& script, int cache_dir) {
  std::string key = tools.identity + '\n' + tools.include_dir + '\n' + DUCTILE_SCRIPT_VERSION + '\n' + child_cache_path;
  for (const auto& flag : base_flags(tools)) key += '\n' + flag;
  for (const auto& flag : script.flags) key += '\n' + flag;
  const std::string leaf = "pch-" + hex(hash_of(key));
  if (::mkdirat(cache_dir, leaf.c_str(), 0700) != 0 && errno != EEXIST) return {};
  const descriptor directory(::openat(cache_dir, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  std::string problem;
  if (!directory || !private_to_me(directory.get(), problem, leaf)) return {};
  // Clang records the header's path in the precompiled file, so both are
  // made where they are used, each written beside its final name first.
  const std::string header = std::string(child_cache_path) + "/" + leaf + "/ductile.hpp";
  if (trusted_file(directory.get(), "ductile.hpp") && trusted_file(directory.get(), "ductile.hpp.gch")) return header;
  const std::string suffix = ".tmp." + std::to_string(::getpid());
  const std::string wrapper = "ductile.hpp" + suffix;
  bool built = false;
  {
    const descriptor out(
        ::openat(directory.get(), wrapper.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    static const char text[] = "#include <ductile/ductile.hpp>\n";
    built = out && ::write(out.get(), text, sizeof text - 1) == static_cast<ssize_t>(sizeof text - 1);
  }
  // Linked, not renamed: once there the wrapper never changes (clang also
  // checks its modification time), and a second builder uses the first's.
  built =
      built && (::linkat(directory.get(), wrapper.c_str(), directory.get(), "ductile.hpp", 0) == 0 || errno == EEXIST);
  ::unlinkat(directory.get(), wrapper.c_str(), 0);
  built = built && trusted_file(directory.get(), "ductile.hpp");
  std::vector<std::string> command{tools.compiler};
  for (const auto& flag : base_flags(tools)) command.push_back(flag);
  for (const auto& flag : script.flags) command.push_back(flag);
  command.push_back("-I" + tools.include_dir);
  for (const char* word : {"-x", "c++-header"}) command.push_back(word);
  command.push_back(header);
  command.push_back("-o");
  command.push_back(header + ".gch" + suffix);
  try {
    built = built &&
            command_of(command).pass_fd(child_cache_fd, cache_dir).stderr_null().unchecked().run().status.success();
  } catch (const std::exception&) {
    built = false;
  }
  const std::string made = "ductile.hpp.gch" + suffix;
  if (built && ::renameat(directory.get(), made.c_str(), directory.get(), "ductile.hpp.gch") == 0 &&
      trusted_file(directory.get(), "ductile.hpp.gch"))
    return header;
  ::unlinkat(directory.get(), made.c_str(), 0);
  return {};
}

int compile(const std::vector<std::string>& command, const std::string& text, int cache_dir) {
  const auto status = command_of(command).stdin_bytes(text).pass_fd(child_cache_fd, cache_dir).unchecked().run().status;
  if (const auto code = status.code()) return *code;
  return 1;
}

}  // namespace ductile_script
