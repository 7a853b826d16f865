// The one translation unit that compiles ductile's implementation. It
// includes the program's own header first, as real files do: the second
// include of the single header adds the definitions the first left out.
#include "words.hpp"

#define DUCTILE_IMPLEMENTATION
#include <ductile/ductile.hpp>
