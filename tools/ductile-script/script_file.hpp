#pragma once
// A script as the compiler sees it: the shebang line blanked (so line numbers
// stay those of the file) and the options its `//!` lines carry.

#include <string>
#include <vector>

namespace ductile_script {

struct script_source {
  std::string path;                // absolute, as diagnostics name it
  std::string text;                // what the compiler reads
  std::vector<std::string> flags;  // `//! flags: ...`: compiler options
  std::vector<std::string> link;   // `//! link: ...`: linker options, after the libraries
};

// `//!` lines count in the leading block of comments, blank lines and
// preprocessor lines; options are split on whitespace, without quoting.
// Throws std::runtime_error if the file cannot be read.
script_source read_script(const std::string& path);

}  // namespace ductile_script
