#pragma once
// A jobserver's tokens as one pool sees them: bytes in a pipe or fifo, taken
// without ever blocking and given back on every path.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "jobserver/auth.hpp"
#include "os/descriptor.hpp"

namespace ductile::detail {

class jobserver_tokens {
 public:
  // The jobserver `auth` names, or nothing with `problem` saying why it cannot be used.
  static std::unique_ptr<jobserver_tokens> join(const jobserver_auth& auth, std::string& problem);
  // A new jobserver holding `count` tokens: a fifo in a private directory
  // under TMPDIR. Throws std::system_error.
  static std::unique_ptr<jobserver_tokens> serve(std::size_t count);
  ~jobserver_tokens();
  jobserver_tokens(const jobserver_tokens&) = delete;
  jobserver_tokens& operator=(const jobserver_tokens&) = delete;

  // A token if one is free right now.
  std::optional<char> try_take() noexcept;
  void give_back(char token) noexcept;
  // Readable when a token may be free; another reader may still win it.
  int readable() const noexcept { return reader_.get(); }

  // What children get to share these tokens: MAKEFLAGS and the descriptors
  // it names (-1 for a jobserver reached only through its fifo).
  const std::string& children_makeflags() const noexcept { return makeflags_; }
  int children_read_fd() const noexcept { return shared_read_.get(); }
  int children_write_fd() const noexcept { return shared_write_.get(); }

 private:
  jobserver_tokens() = default;

  unique_fd reader_;  // a description of our own, non-blocking
  unique_fd writer_;
  unique_fd shared_read_;  // served: the descriptors children inherit
  unique_fd shared_write_;
  std::string makeflags_;
  std::string fifo_path_;  // served: removed with its directory at the end
  std::string directory_;
};

}  // namespace ductile::detail
