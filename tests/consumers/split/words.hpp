// A header of the program's own that includes ductile's: with the single
// header it brings the declarations only.
#pragma once
#include <ductile/ductile.hpp>
#include <string>

std::string count_words(const std::string& text);
