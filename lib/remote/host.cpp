#include <fmt/format.h>

#include <ductile/remote.hpp>
#include <stdexcept>

#include "common.hpp"

namespace ductile::remote {

DUCTILE_INLINE host::host(ssh_options options) {
  if (options.host.empty()) throw std::invalid_argument("remote::host: the host name is empty");
  // ssh would take these as options, whatever comes before them.
  if (options.host.front() == '-')
    throw std::invalid_argument(fmt::format("remote::host: host {:?} starts with '-'", options.host));
  if (!options.user.empty() && options.user.front() == '-')
    throw std::invalid_argument(fmt::format("remote::host: user {:?} starts with '-'", options.user));
  if (options.port < 1 || options.port > 65535)
    throw std::invalid_argument(fmt::format("remote::host: port {} is not in 1..65535", options.port));
  options_ = std::make_shared<const ssh_options>(std::move(options));
}

DUCTILE_INLINE host host::local() {
  host here;
  here.options_ = std::make_shared<const ssh_options>();
  return here;
}

DUCTILE_INLINE std::string host::label() const {
  const ssh_options& o = *options_;
  if (o.host.empty()) return "this machine";
  std::string text = o.user.empty() ? o.host : o.user + "@" + o.host;
  if (o.port != 22) text += ":" + std::to_string(o.port);
  return text;
}

}  // namespace ductile::remote
