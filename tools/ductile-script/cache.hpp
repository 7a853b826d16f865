#pragma once
// Where compiled scripts are kept: a directory only this user can write,
// entries named by a hash of everything that shapes the binary, written
// atomically so that two first runs at once never see half a binary.

#include <cstdint>
#include <string>
#include <string_view>

namespace ductile_script {

// $XDG_CACHE_HOME/ductile-script, else ~/.cache/ductile-script, made 0700;
// where neither can be used, a private temporary directory, and `warning`
// says why.
std::string cache_directory(std::string& warning);

// FNV-1a, 64 bits: enough to tell cache entries apart; the cache is private,
// so nobody chooses its inputs to collide.
std::uint64_t hash_of(std::string_view text, std::uint64_t seed = 0xcbf29ce484222325ULL);
std::string hex(std::uint64_t value);

// Whether `path` is an entry this user made: a regular, executable, non-empty file.
bool usable_entry(const std::string& path);

}  // namespace ductile_script
