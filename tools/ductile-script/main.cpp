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

const char usage_text[] =
    "usage: ductile-script [--print-command] FILE.cpp [ARGS...]\n"
    "       ductile-script --help | --version\n";

const char help_text[] =
    "Runs a C++ file like a shell script: `#!/usr/bin/env ductile-script` as its\n"
    "first line, or `ductile-script FILE.cpp ARGS...`. The file is compiled against\n"
    "ductile once (cached by its content, the compiler, the flags and ductile's\n"
    "version) and run with ARGS; its streams, environment and exit status are the\n"
    "script's own, and $0 is FILE.cpp as it was given.\n"
    "\n"
    "  --print-command  print the compile command instead of running the script\n"
    "  --help           print this text\n"
    "  --version        print ductile's version\n"
    "\n"
    "`//! flags: ...` and `//! link: ...` lines near the top add compiler and linker\n"
    "options. CXX chooses the compiler (default c++). The cache is\n"
    "$XDG_CACHE_HOME/ductile-script or ~/.cache/ductile-script, else\n"
    "$XDG_RUNTIME_DIR/ductile-script, else $TMPDIR/ductile-script-UID; where none is\n"
    "private to this user, a one-use directory.\n";

int usage() {
  std::fputs(usage_text, stderr);
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

// Compiles the script into `dir` as `name`: the entry, opened and checked, or
// an empty descriptor once the compiler's status was stored in `status`.
ductile_script::descriptor build_entry(const ductile_script::toolchain& tools,
                                       const ductile_script::script_source& script, ductile_script::cache& cache,
                                       const std::string& name, int& status) {
  using namespace ductile_script;
  if (!cache.warning.empty()) std::fprintf(stderr, "%s\n", cache.warning.c_str());
  // A one-use cache would keep a precompiled header for nobody.
  const std::string precompiled = cache.one_use ? std::string() : precompiled_header(tools, script, cache.dir.get());
  // Written beside the entry, then renamed over it: a reader sees all or nothing.
  const std::string building = name + ".tmp." + std::to_string(::getpid());
  status = compile(compile_command(tools, script, precompiled, std::string(child_cache_path) + "/" + building),
                   script.text, cache.dir.get());
  descriptor entry = status == 0 ? open_entry(cache.dir.get(), building) : descriptor();
  if (status == 0 && !entry) {
    std::fprintf(stderr, "ductile-script: the compiler made no usable %s/%s\n", cache.path.c_str(), building.c_str());
    status = 1;
  }
  if (entry && !cache.one_use && ::renameat(cache.dir.get(), building.c_str(), cache.dir.get(), name.c_str()) != 0) {
    std::fprintf(stderr, "ductile-script: cannot store %s/%s: %s\n", cache.path.c_str(), name.c_str(),
                 std::strerror(errno));
    entry = descriptor();
    status = 1;
  }
  if (!entry) ::unlinkat(cache.dir.get(), building.c_str(), 0);
  return entry;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ductile_script;
  int first = 1;
  bool print_command = false;
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    std::fputs(usage_text, stdout);
    std::fputs("\n", stdout);
    std::fputs(help_text, stdout);
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("ductile-script %s\n", DUCTILE_SCRIPT_VERSION);
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "--print-command") == 0) {
    print_command = true;
    first = 2;
  }
  if (argc <= first) return usage();
  if (argv[first][0] == '-' && argv[first][1] == '-') {
    std::fprintf(stderr, "ductile-script: unknown option %s\n", argv[first]);
    return usage();
  }
  try {
    const script_source script = read_script(absolute(argv[first]));
    const toolchain tools = find_toolchain();
    cache cache = open_cache();
    const std::string name = entry_key(tools, script);

    if (print_command) {
      const auto command = compile_command(tools, script, cache.path + "/pch-.../ductile.hpp", cache.path + "/" + name);
      std::string line;
      for (const auto& word : command) line += (line.empty() ? "" : " ") + ductile::shell_quote(word);
      std::printf("%s < %s\n", line.c_str(), ductile::shell_quote(script.path).c_str());
      remove_one_use(cache);
      return 0;
    }
    descriptor entry = open_entry(cache.dir.get(), name);
    if (!entry) {
      int status = 0;
      entry = build_entry(tools, script, cache, name, status);
      if (!entry) {
        remove_one_use(cache);
        return status;
      }
    }
    // The open entry runs even once its name is gone.
    remove_one_use(cache);
    // $0 is the script as it was invoked (a link's own name, for a
    // multi-call script), as for any interpreter.
    std::vector<char*> arguments{argv[first]};
    for (int i = first + 1; i < argc; ++i) arguments.push_back(argv[i]);
    arguments.push_back(nullptr);
    ::fexecve(entry.get(), arguments.data(), environ);
    const int error = errno;
    if (cache.dir) ::unlinkat(cache.dir.get(), name.c_str(), 0);  // never run a broken entry twice
    std::fprintf(stderr, "ductile-script: cannot run %s/%s (compiled from %s): %s\n", cache.path.c_str(), name.c_str(),
                 script.path.c_str(), std::strerror(error));
    return 126;
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "%s\n", failure.what());
    return 1;
  }
}
