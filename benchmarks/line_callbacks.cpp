// Lines to a callback: `cmd("cat", file).stdout_lines(fn)` against a raw spawn
// of cat whose pipe is read in 64 KiB chunks and split with memchr on the
// same thread: what a hand-written line reader costs.
//
// usage: line_callbacks [mib=256] [rounds=7]

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ductile/ductile.hpp>
#include <string>

#include "paired.hpp"
#include "raw.hpp"

namespace {

struct line_count {
  std::size_t lines = 0;
  std::size_t bytes = 0;
  void add(std::string_view line) {
    ++lines;
    bytes += line.size();
  }
};

// 100-byte lines (each 1 MiB block ends with a shorter one), written once to a
// temporary file that cat then reads from the page cache. Counts the lines.
std::string make_lines_file(std::size_t total, std::size_t& lines) {
  char path[] = "/tmp/ductile-lines-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) bench::raw::fail("mkstemp");
  std::string block;
  for (std::size_t line = 0; block.size() < (1u << 20); ++line) {
    std::string text = "line " + std::to_string(line) + " ";
    text.resize(99, 'x');
    block += text + "\n";
  }
  block.resize(1u << 20);
  block.back() = '\n';
  lines = 0;
  for (const char c : block) lines += c == '\n';
  lines *= total / block.size();
  for (std::size_t written = 0; written < total; written += block.size())
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) bench::raw::fail("write");
  close(fd);
  return path;
}

void split_into(int fd, line_count& count) {
  std::string pending;
  std::vector<char> chunk(64 * 1024);
  for (;;) {
    const ssize_t got = read(fd, chunk.data(), chunk.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    const char* at = chunk.data();
    const char* end = at + got;
    while (const char* newline = static_cast<const char*>(std::memchr(at, '\n', static_cast<std::size_t>(end - at)))) {
      if (pending.empty()) {
        count.add(std::string_view(at, static_cast<std::size_t>(newline - at)));
      } else {
        pending.append(at, newline);
        count.add(pending);
        pending.clear();
      }
      at = newline + 1;
    }
    pending.append(at, end);
  }
  if (!pending.empty()) count.add(pending);
}

}  // namespace

int main(int argc, char** argv) {
  const int mib = bench::argument(argc, argv, 1, 256);
  const int rounds = bench::argument(argc, argv, 2, 7);
  const std::size_t total = static_cast<std::size_t>(mib) << 20;
  std::size_t expected_lines = 0;
  const std::string file = make_lines_file(total, expected_lines);
  auto check = [&](const line_count& count) {
    if (count.lines != expected_lines) {
      std::fprintf(stderr, "counted %zu lines, expected %zu\n", count.lines, expected_lines);
      std::exit(1);
    }
  };

  const bench::raw::program raw_cat("cat", {file});
  line_count ours_count;
  const auto ours = ductile::cmd("cat", file).stdout_lines([&](std::string_view line) { ours_count.add(line); });
  bench::compare(("lines of " + std::to_string(mib) + " MiB to a callback").c_str(), rounds,
                 static_cast<double>(expected_lines),
                 [&] {
                   ours_count = line_count{};
                   ours.run();
                   check(ours_count);
                 },
                 [&] {
                   const auto out = bench::raw::make_pipe();
                   const int pidfd = raw_cat.spawn(-1, out.write);
                   close(out.write);
                   line_count count;
                   split_into(out.read, count);
                   close(out.read);
                   bench::raw::wait_pidfd(pidfd);
                   check(count);
                 });
  unlink(file.c_str());
  return 0;
}
