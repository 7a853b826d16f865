// libFuzzer target for the cmdline parser. The first byte picks how many
// arguments the text gets; the rest is the text. Besides not crashing, every
// accepted text must survive the round trip: printing the expression and
// parsing that again gives the same text; and the compile-time placeholder
// check must agree with the parser (a text the parser accepts passes it, a
// text it flags does not parse).
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
  const std::size_t flagged = ductile::detail::check_placeholders(text, count);
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
  if (flagged != static_cast<std::size_t>(-1)) std::abort();  // the check refused what the parser took
  const std::string printed = ductile::to_string(e);
  const std::string again = ductile::to_string(ductile::cmdline(ductile::runtime_cmdline{printed}));
  if (again != printed) std::abort();
  return 0;
}
