#include "jobserver/tokens.hpp"

#include <stdlib.h>
#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <string>
#include <system_error>

#include "common.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail {

#ifdef _WIN32
// GNU make's Windows jobserver is a named semaphore, which this library does
// not speak.
DUCTILE_INLINE std::unique_ptr<jobserver_tokens> jobserver_tokens::join(const jobserver_auth&, std::string& problem) {
  problem = "not supported on this system";
  return nullptr;
}

DUCTILE_INLINE std::unique_ptr<jobserver_tokens> jobserver_tokens::serve(std::size_t) {
  throw std::system_error(sys::not_supported(), "serve_jobserver");
}

DUCTILE_INLINE jobserver_tokens::~jobserver_tokens() = default;
#else
namespace {

bool is_pipe(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

int open_cloexec(const char* path, int flags) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? fd : sys::keep_above_stdio(fd);
}

// A read end of our own, so that making it non-blocking leaves make's alone.
// Linux reopens the pipe through /proc; elsewhere the shared description is
// made non-blocking, which make tolerates (it reads after select and
// handles EAGAIN, since its children race it for tokens).
unique_fd own_reader(int fd) {
  const std::string proc_path = "/proc/self/fd/" + std::to_string(fd);
  unique_fd reopened(open_cloexec(proc_path.c_str(), O_RDONLY | O_NONBLOCK));
  if (reopened) return reopened;
  unique_fd copy;
  if (sys::duplicate(fd, copy) || sys::set_nonblocking(copy.get())) return unique_fd();
  return copy;
}

}  // namespace

DUCTILE_INLINE std::unique_ptr<jobserver_tokens> jobserver_tokens::join(const jobserver_auth& auth,
                                                                        std::string& problem) {
  std::unique_ptr<jobserver_tokens> tokens(new jobserver_tokens());
  if (auth.kind == jobserver_auth::style::fifo) {
    tokens->reader_.reset(open_cloexec(auth.fifo_path.c_str(), O_RDONLY | O_NONBLOCK));
    if (tokens->reader_) tokens->writer_.reset(open_cloexec(auth.fifo_path.c_str(), O_WRONLY | O_NONBLOCK));
    if (!tokens->writer_) {
      problem = "cannot open " + auth.fifo_path + ": " + std::generic_category().message(errno);
      return nullptr;
    }
    if (!is_pipe(tokens->reader_.get())) {
      problem = auth.fifo_path + " is not a fifo";
      return nullptr;
    }
    return tokens;
  }
  if (auth.kind != jobserver_auth::style::descriptors) {
    problem = "the option is neither fifo:PATH nor R,W";
    return nullptr;
  }
  // Make passes its descriptors only to rules it knows start a sub-make;
  // elsewhere the numbers may hold anything, even a pipe of the program's own.
  const std::string hint = " (make passes its jobserver only to rules marked with '+')";
  struct stat ends[2] = {};
  const int fds[2] = {auth.read_fd, auth.write_fd};
  for (int i = 0; i < 2; ++i) {
    const std::string name = "descriptor " + std::to_string(fds[i]);
    const int flags = ::fcntl(fds[i], F_GETFL);
    if (flags < 0) {
      problem = name + " is not open" + hint;
      return nullptr;
    }
    if (::fstat(fds[i], &ends[i]) != 0 || !S_ISFIFO(ends[i].st_mode)) {
      problem = name + " is not a pipe" + hint;
      return nullptr;
    }
    const int access = flags & O_ACCMODE;
    if (i == 0 ? access == O_WRONLY : access == O_RDONLY) {
      problem = name + " is not open for " + (i == 0 ? "reading" : "writing") + hint;
      return nullptr;
    }
  }
  if (ends[0].st_dev != ends[1].st_dev || ends[0].st_ino != ends[1].st_ino) {
    problem = "descriptors " + std::to_string(fds[0]) + " and " + std::to_string(fds[1]) +
              " are not the two ends of one pipe" + hint;
    return nullptr;
  }
  tokens->reader_ = own_reader(auth.read_fd);
  if (!tokens->reader_ || sys::duplicate(auth.write_fd, tokens->writer_)) {
    problem = "cannot duplicate its descriptors: " + std::generic_category().message(errno);
    return nullptr;
  }
  return tokens;
}

DUCTILE_INLINE std::unique_ptr<jobserver_tokens> jobserver_tokens::serve(std::size_t count) {
  const auto fail = [](const char* what) {
    throw std::system_error(errno, std::generic_category(), std::string("serve_jobserver: ") + what);
  };
  std::unique_ptr<jobserver_tokens> tokens(new jobserver_tokens());
  const char* tmp = ::getenv("TMPDIR");
  std::string directory = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ductile-jobserver-XXXXXX";
  if (sys::make_private_directory(directory)) fail("make a directory");
  tokens->directory_ = directory;
  const std::string path = directory + "/fifo";
  if (::mkfifo(path.c_str(), 0600) != 0) fail("make a fifo");
  tokens->fifo_path_ = path;
  // Open for reading and writing first, so that no open below blocks.
  tokens->shared_read_.reset(open_cloexec(path.c_str(), O_RDWR));
  if (!tokens->shared_read_) fail("open its fifo");
  tokens->shared_write_.reset(open_cloexec(path.c_str(), O_WRONLY));
  tokens->reader_.reset(open_cloexec(path.c_str(), O_RDONLY | O_NONBLOCK));
  tokens->writer_.reset(open_cloexec(path.c_str(), O_WRONLY | O_NONBLOCK));
  if (!tokens->shared_write_ || !tokens->reader_ || !tokens->writer_) fail("open its fifo");
  for (std::size_t i = 0; i < count; ++i) tokens->give_back('+');
  tokens->makeflags_ = served_makeflags(path, tokens->shared_read_.get(), tokens->shared_write_.get());
  return tokens;
}

DUCTILE_INLINE jobserver_tokens::~jobserver_tokens() {
  if (!fifo_path_.empty()) ::unlink(fifo_path_.c_str());
  if (!directory_.empty()) ::rmdir(directory_.c_str());
}
#endif

DUCTILE_INLINE std::optional<char> jobserver_tokens::try_take() noexcept {
  char token;
  std::size_t got = 0;
  if (sys::read_some(reader_.get(), &token, 1, got) || got != 1) return std::nullopt;
  return token;
}

DUCTILE_INLINE void jobserver_tokens::give_back(char token) noexcept {
  std::size_t written = 0;
  // A pipe with room for 4096 tokens or more never refuses one we took.
  (void)sys::write_some(writer_.get(), &token, 1, written);
}

}  // namespace ductile::detail
