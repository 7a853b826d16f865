// ductile-script: runs a C++ file like a shell script.
//
//   #!/usr/bin/env ductile-script        (first line of a .cpp file), or
//   ductile-script FILE.cpp ARGS...
//   ductile-script --print-command FILE.cpp
//
// Compiles the file against ductile (once per content, compiler, flags and
// ductile version; the binary is cached) and execs it with the arguments,
// streams, environment and exit status untouched.

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

#include "build.hpp"
#include "cache.hpp"
#include "script_file.hpp"
#include "script_paths.hpp"

extern char** environ;

namespace {

int usage() {
  std::fprintf(stderr, "usage: ductile-script [--print-command] FILE.cpp [ARGS...]\n");
  return 2;
}

std::string absolute(const std::string& path) {
  char resolved[4096];
  return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

// Everything that shapes the binary.
std::string entry_key(const ductile_script::toolchain& tools, const ductile_script::script_source& script) {
  std::string key = script.text + '\0' + tools.identity + '\0' + tools.include_dir + '\0' + tools.library_dir + '\0' +
                    DUCTILE_SCRIPT_VERSION;
  for (const auto& flag : ductile_script::base_flags(tools)) key += '\0' + flag;
  for (const auto& flag : script.flags) key += std::string("\0f", 2) + flag;
  for (const auto& option : script.link) key += std::string("\0l", 2) + option;
  return ductile_script::hex(ductile_script::hash_of(key));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ductile_script;
  int first = 1;
  bool print_command = false;
  if (argc > 1 && std::strcmp(argv[1], "--print-command") == 0) {
    print_command = true;
    first = 2;
  }
  if (argc <= first) return usage();
  try {
    const script_source script = read_script(absolute(argv[first]));
    const toolchain tools = find_toolchain();
    std::string warning;
    const std::string cache = cache_directory(warning);
    const std::string entry = cache + "/" + entry_key(tools, script);

    if (print_command) {
      const auto command = compile_command(tools, script, cache + "/pch-.../ductile.hpp", entry);
      std::string line;
      for (const auto& word : command) line += (line.empty() ? "" : " ") + ductile::shell_quote(word);
      std::printf("%s < %s\n", line.c_str(), ductile::shell_quote(script.path).c_str());
      return 0;
    }
    if (!usable_entry(entry)) {
      if (!warning.empty()) std::fprintf(stderr, "%s\n", warning.c_str());
      const std::string precompiled = precompiled_header(tools, script, cache);
      // Written beside the entry, then renamed over it: a reader sees all or nothing.
      const std::string building = entry + ".tmp." + std::to_string(::getpid());
      const int status = compile(compile_command(tools, script, precompiled, building), script.text);
      if (status != 0) {
        ::unlink(building.c_str());
        return status;
      }
      if (::rename(building.c_str(), entry.c_str()) != 0) {
        std::fprintf(stderr, "ductile-script: cannot store %s: %s\n", entry.c_str(), std::strerror(errno));
        ::unlink(building.c_str());
        return 1;
      }
    }
    // $0 is the script, as for any interpreter.
    std::vector<char*> arguments{const_cast<char*>(script.path.c_str())};
    for (int i = first + 1; i < argc; ++i) arguments.push_back(argv[i]);
    arguments.push_back(nullptr);
    ::execve(entry.c_str(), arguments.data(), environ);
    const int error = errno;
    ::unlink(entry.c_str());  // never run a broken entry twice
    std::fprintf(stderr, "ductile-script: cannot run %s (compiled from %s): %s\n", entry.c_str(), script.path.c_str(),
                 std::strerror(error));
    return 126;
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "%s\n", failure.what());
    return 1;
  }
}
