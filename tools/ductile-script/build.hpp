#pragma once
// Compiling a script: the compiler, where ductile is, the precompiled
// header, and the command line.

#include <string>
#include <vector>

#include "script_file.hpp"

namespace ductile_script {

struct toolchain {
  std::string compiler;                  // $CXX, else c++
  std::string identity;                  // its resolved path, size and modification time
  std::string include_dir;               // ductile's headers
  std::string library_dir;               // libductile's directory
  std::string library;                   // how to link it: -lductile, or the build tree's file
  std::vector<std::string> build_flags;  // the build tree's sanitizers and backend
};

// The installed ductile, or the build tree this command was built in when it
// runs from there. Throws std::runtime_error if the compiler cannot be found.
toolchain find_toolchain();

// The options every script is compiled with, before its own.
std::vector<std::string> base_flags(const toolchain& tools);

// `compiler ... -x c++ - -o output ...`: the script's text comes on stdin.
std::vector<std::string> compile_command(const toolchain& tools, const script_source& script,
                                         const std::string& precompiled, const std::string& output);

// A precompiled <ductile/ductile.hpp> for these flags in the cache directory
// `cache_dir`, built once and checked through that descriptor each time; the
// header to -include, as the compiler reaches it (child_cache_path), or empty
// if it could not be built.
std::string precompiled_header(const toolchain& tools, const script_source& script, int cache_dir);

// Runs the compiler with the script on its stdin, its diagnostics on this
// process's stderr and the cache directory as its descriptor 3; the
// compiler's exit code.
int compile(const std::vector<std::string>& command, const std::string& text, int cache_dir);

}  // namespace ductile_script
