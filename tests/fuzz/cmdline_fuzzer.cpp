// libFuzzer target for the cmdline parser. The first byte picks how many
// arguments the text gets; the rest is the text. Besides not crashing, every
// accepted text must survive the round trip: printing the expression and
// parsing that again gives the same text.
#include <cstdint>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned count = data[0] % 4;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string a = "a b", b = "", c = "$(x)";
  ductile::expression e = ductile::cmd("true");
  try {
    switch (count) {
      case 0: e = ductile::cmdline(ductile::runtime_cmdline{text}); break;
      case 1: e = ductile::cmdline(ductile::runtime_cmdline{text}, a); break;
      case 2: e = ductile::cmdline(ductile::runtime_cmdline{text}, a, b); break;
      default: e = ductile::cmdline(ductile::runtime_cmdline{text}, a, b, c); break;
    }
  } catch (const ductile::parse_error&) {
    return 0;
  } catch (const std::invalid_argument&) {  // a NUL byte or an empty program
    return 0;
  }
  const std::string printed = ductile::to_string(e);
  const std::string again = ductile::to_string(ductile::cmdline(ductile::runtime_cmdline{printed}));
  if (again != printed) std::abort();
  return 0;
}
