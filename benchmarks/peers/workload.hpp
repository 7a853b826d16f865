#pragma once
// The one main() every C++ peer shares: the peer's file defines how it spawns
// `true` and waits, and how it captures a program's whole stdout; this file
// times them.
//
//   <peer> spawn COUNT PARENT_MIB   seconds per spawn-and-wait of /bin/true,
//                                   with PARENT_MIB of touched memory in the parent
//   <peer> capture MIB              seconds to capture MIB of `head -c` from /dev/zero
//   <peer> pipeline COUNT           seconds per `true | true | true`, waited for whole
//   <peer> pool COUNT PARALLEL      seconds per job of COUNT /bin/true, PARALLEL at a time
//   <peer> async COUNT PARALLEL     the same through the library's asynchronous
//                                   interface, where it has one (else as pool)
//
// Each prints one number, so benchmarks/peers/run.sh can pair the peers
// round by round against the raw posix_spawn baseline.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace peer {
// Where a peer that reads a pipe itself puts the bytes: malloc'd and grown by
// doubling with realloc, which glibc does with mremap for large blocks, so
// nothing is zero-filled or copied twice (the raw baseline's way too).
class growing_buffer {
 public:
  growing_buffer() : data_(static_cast<char*>(std::malloc(1 << 16))), capacity_(1 << 16) {}
  ~growing_buffer() { std::free(data_); }
  growing_buffer(const growing_buffer&) = delete;
  growing_buffer& operator=(const growing_buffer&) = delete;
  // Room for at least 64 KiB more at free_space().
  char* free_space() {
    if (capacity_ - used_ < (1 << 16)) {
      capacity_ *= 2;
      data_ = static_cast<char*>(std::realloc(data_, capacity_));
      if (data_ == nullptr) std::abort();
    }
    return data_ + used_;
  }
  std::size_t room() const { return capacity_ - used_; }
  void filled(std::size_t bytes) { used_ += bytes; }
  std::size_t size() const { return used_; }

 private:
  char* data_;
  std::size_t capacity_;
  std::size_t used_ = 0;
};

// Runs /bin/true (looked up in PATH where the library looks things up) and
// waits for it.
void spawn_true();
// Runs `argv` and returns how many bytes it wrote to stdout, all of them
// held in memory at once, as a capture does.
std::size_t capture(const std::vector<std::string>& argv);
// Runs `true | true | true`, its stages connected by pipes, and waits for all three.
void pipeline_true();
// Runs `count` /bin/true, at most `parallel` at a time, and waits for them all.
void pool(long count, int parallel);
// The same with the library's event loop or completion handlers, as a
// program that waits for many children on one thread is written.
void async_jobs(long count, int parallel);

// A pool for a library that has none: `parallel` threads, each taking the
// next job and running it with spawn_true(), what its users write by hand.
inline void pool_of_threads(long count, int parallel) {
  std::atomic<long> next{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < parallel; ++i)
    threads.emplace_back([&] {
      while (next.fetch_add(1) < count) spawn_true();
    });
  for (auto& thread : threads) thread.join();
}
}  // namespace peer

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s spawn COUNT PARENT_MIB | capture MIB | pipeline COUNT | pool|async COUNT PARALLEL\n",
                 argv[0]);
    return 2;
  }
  using clock = std::chrono::steady_clock;
  const std::string workload = argv[1];
  if (workload == "spawn") {
    const long count = std::atol(argv[2]);
    const std::size_t parent = argc > 3 ? static_cast<std::size_t>(std::atol(argv[3])) << 20 : 0;
    // Touched, so that a peer that forks copies page tables for all of it.
    char* memory = static_cast<char*>(std::malloc(parent + 1));
    std::memset(memory, 1, parent + 1);
    peer::spawn_true();  // warm-up: libraries, caches, helper threads
    const auto start = clock::now();
    for (long i = 0; i < count; ++i) peer::spawn_true();
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    std::printf("%.9f\n", seconds / static_cast<double>(count));
    std::free(memory);
    return 0;
  }
  if (workload == "capture") {
    const std::size_t bytes = static_cast<std::size_t>(std::atol(argv[2])) << 20;
    const std::vector<std::string> command{"head", "-c", std::to_string(bytes), "/dev/zero"};
    const auto start = clock::now();
    const std::size_t got = peer::capture(command);
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    if (got != bytes) {
      std::fprintf(stderr, "captured %zu bytes, not %zu\n", got, bytes);
      return 1;
    }
    std::printf("%.9f\n", seconds);
    return 0;
  }
  if (workload == "pipeline") {
    const long count = std::atol(argv[2]);
    peer::pipeline_true();
    const auto start = clock::now();
    for (long i = 0; i < count; ++i) peer::pipeline_true();
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    std::printf("%.9f\n", seconds / static_cast<double>(count));
    return 0;
  }
  if ((workload == "pool" || workload == "async") && argc > 3) {
    const long count = std::atol(argv[2]);
    const int parallel = std::atoi(argv[3]);
    peer::spawn_true();
    const auto start = clock::now();
    if (workload == "pool")
      peer::pool(count, parallel);
    else
      peer::async_jobs(count, parallel);
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    std::printf("%.9f\n", seconds / static_cast<double>(count));
    return 0;
  }
  std::fprintf(stderr, "unknown workload %s\n", workload.c_str());
  return 2;
}
