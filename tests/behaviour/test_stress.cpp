// Stress, bounded in time: many threads, many processes, large streams and
// children that misbehave. Afterwards nothing may be left: no zombie, no
// descriptor, no lost byte.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <cstring>

#include "support.hpp"

using namespace ductile;
using test::helper;

namespace {

// The large cases shrink in sanitized builds.
using test::sanitized;
constexpr std::size_t stream_bytes = sanitized ? (8u << 20) : (64u << 20);

std::string pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return bytes;
}

std::array<std::size_t, 256> histogram(const std::string& bytes) {
  std::array<std::size_t, 256> counts{};
  for (char c : bytes) ++counts[static_cast<unsigned char>(c)];
  return counts;
}

// No child of this process in any state, zombies included.
bool no_zombies() { return test::no_children_soon(); }

}  // namespace

TEST_CASE("8 threads mixing pipelines, kills, timeouts and dropped handles leave nothing behind") {
  test::leak_check leaks;
  constexpr int threads = 8;
  constexpr int iterations = 24;
  std::atomic<std::size_t> captured{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < iterations; ++i) {
        try {
          switch ((t + i) % 5) {
            case 0: {  // a captured pipeline: every byte must arrive
              const auto text = (helper("write_bytes", 100000) | cmd("cat")).read();
              if (text.size() != 100000) ++failures;
              captured += text.size();
              break;
            }
            case 1: {  // killed while running
              auto running = (cmd("sleep", "30") | cmd("cat")).stdout_capture().start();
              running.kill();
              try {
                running.wait();
                ++failures;
              } catch (const status_error& e) {
                if (e.output().status.signal() != SIGKILL) ++failures;
              }
              break;
            }
            case 2:  // timed out
              try {
                cmd("sleep", "30").timeout(std::chrono::milliseconds(20)).run();
                ++failures;
              } catch (const timeout_error&) {
              }
              break;
            case 3: {  // dropped while running: the destructor kills and reaps
              auto dropped = (cmd("sleep", "30") | cmd("cat")).start();
              (void)dropped;
              break;
            }
            default: {  // stdin, stdout and stderr at once
              const std::string input(200000, static_cast<char>('a' + i % 26));
              const auto out = helper("mirror").stdin_bytes(input).stdout_capture().stderr_capture().run();
              if (out.stdout_bytes != input || out.stderr_bytes != input) ++failures;
              captured += out.stdout_bytes.size() + out.stderr_bytes.size();
              break;
            }
          }
        } catch (const std::exception& e) {
          ++failures;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  CHECK(failures == 0);
  // Every captured byte accounted for: 100,000 per pipeline, 400,000 per mirror.
  std::size_t expected = 0;
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < iterations; ++i) {
      if ((t + i) % 5 == 0) expected += 100000;
      if ((t + i) % 5 == 4) expected += 400000;
    }
  CHECK(captured == expected);
  CHECK(no_zombies());
}

TEST_CASE("children started from 8 threads at once, while 2 others allocate, all start and exit") {
  // A child made while another thread holds a lock the child's own code
  // takes (the allocator's, a sanitizer runtime's) would wait for it
  // forever, and its parent with it.
  test::leak_check leaks;
  std::atomic<bool> stop{false};
  std::vector<std::thread> allocating;
  for (int t = 0; t < 2; ++t)
    allocating.emplace_back([&] {
      while (!stop) {
        std::vector<std::string> words;
        for (int i = 0; i < 1000; ++i) words.push_back(std::to_string(i) + " and some more text");
      }
    });
  std::atomic<int> succeeded{0};
  std::vector<std::thread> starting;
  for (int t = 0; t < 8; ++t)
    starting.emplace_back([&] {
      for (int i = 0; i < 60; ++i)
        if (cmd("true").unchecked().run().status.success()) ++succeeded;
    });
  for (auto& thread : starting) thread.join();
  stop = true;
  for (auto& thread : allocating) thread.join();
  CHECK(succeeded == 8 * 60);
  CHECK(no_zombies());
}

TEST_CASE("while one thread spawns long-lived children, cat | cat pipelines on another all finish") {
  test::leak_check leaks;
  std::atomic<bool> done{false};
  std::thread spawner([&] {
    std::vector<handle> alive;
    while (!done) {
      alive.push_back(cmd("sleep", "5").start());
      if (alive.size() > 20) alive.erase(alive.begin());  // killed and reaped
    }
  });
  // A write end leaked into one of the sleeping children would keep a `cat`
  // waiting for EOF: the timeout turns such a hang into a failure.
  int finished = 0;
  for (int i = 0; i < 150; ++i) {
    const auto text = (cmd("cat") | cmd("cat")).stdin_bytes("hello").timeout(std::chrono::seconds(20)).read();
    if (text == "hello") ++finished;
  }
  done = true;
  spawner.join();
  CHECK(finished == 150);
}

TEST_CASE("a parent with a large heap and 10,000 open descriptors spawns, and no child sees them") {
  test::leak_check leaks;
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  const rlimit saved = limit;
  if (limit.rlim_max < 10100) {
    MESSAGE("skipped: the hard descriptor limit is below 10,100");
    return;
  }
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  // 2 GiB resident in plain builds; the sanitizers' shadow memory would make
  // that several times larger, so they hold 256 MiB.
  const std::size_t heap = sanitized ? (256u << 20) : (2048u << 20);
  void* memory = mmap(nullptr, heap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(memory != MAP_FAILED);
  madvise(memory, heap, MADV_HUGEPAGE);  // resident all the same, and quicker to fill
  std::memset(memory, 1, heap);
  std::vector<int> opened;
  for (int i = 0; i < 10000; ++i) {
    const int fd = ::open("/dev/null", O_RDONLY);  // inheritable on purpose
    REQUIRE(fd >= 0);
    opened.push_back(fd);
  }
  for (int i = 0; i < 20; ++i) CHECK(helper("list_fds").read() == "0\n1\n2");
  CHECK((helper("list_fds") | cmd("cat")).read() == "0\n1\n2");
  for (int fd : opened) ::close(fd);
  munmap(memory, heap);
  setrlimit(RLIMIT_NOFILE, &saved);
}

TEST_CASE("large streams through stdin, stdout and stderr at once, in every redirect combination") {
  test::leak_check leaks;
  test::temp_dir dir;
  const std::string input = pattern(stream_bytes);
  const auto mirror = helper("mirror").stdin_bytes(input);  // the bytes are shared, not copied, by every run
  enum class out_to { capture, file, null, tee_to_file };
  enum class err_to { capture, file, null, to_stdout };
  for (const auto out : {out_to::capture, out_to::file, out_to::null, out_to::tee_to_file}) {
    for (const auto err : {err_to::capture, err_to::file, err_to::null, err_to::to_stdout}) {
      CAPTURE(static_cast<int>(out));
      CAPTURE(static_cast<int>(err));
      const auto out_file = dir / "out", err_file = dir / "err";
      std::filesystem::remove(out_file);
      std::filesystem::remove(err_file);
      expression e = mirror;
      switch (err) {
        case err_to::capture: e = e.stderr_capture(); break;
        case err_to::file: e = e.stderr_path(err_file); break;
        case err_to::null: e = e.stderr_null(); break;
        case err_to::to_stdout: e = e.stderr_to_stdout(); break;
      }
      switch (out) {
        case out_to::capture: e = e.stdout_capture(); break;
        case out_to::file: e = e.stdout_path(out_file); break;
        case out_to::null: e = e.stdout_null(); break;
        case out_to::tee_to_file: e = e.stdout_tee().stdout_path(out_file); break;
      }
      const auto result = e.run();
      CHECK(result.status.success());
      const bool merged = err == err_to::to_stdout;
      std::string stdout_seen;
      if (out == out_to::capture || out == out_to::tee_to_file) stdout_seen = result.stdout_bytes;
      if (out == out_to::file) stdout_seen = test::slurp(out_file);
      if (out == out_to::tee_to_file) CHECK(test::slurp(out_file) == result.stdout_bytes);
      if (out != out_to::null) {
        if (merged) {
          // Two writers share the stream: the interleaving is the kernel's, the bytes are not.
          CHECK(stdout_seen.size() == 2 * input.size());
          auto twice = histogram(input);
          for (auto& n : twice) n *= 2;
          CHECK(histogram(stdout_seen) == twice);
        } else {
          CHECK(stdout_seen == input);
        }
      }
      if (err == err_to::capture) CHECK(result.stderr_bytes == input);
      if (err == err_to::file) CHECK(test::slurp(err_file) == input);
    }
  }
}

TEST_CASE("a child that closes its stdout early: the capture ends, stderr is still complete") {
  test::leak_check leaks;
  const auto out =
      cmd("sh", "-c", "echo first; exec >&-; sleep 0.2; echo after >&2").stdout_capture().stderr_capture().run();
  CHECK(out.stdout_bytes == "first\n");
  CHECK(out.stderr_bytes == "after\n");
  CHECK(out.status.success());
}

TEST_CASE("a child that never reads its stdin: all of it offered, no error, no hang") {
  test::leak_check leaks;
  CHECK(cmd("true").stdin_bytes(pattern(stream_bytes)).run().status.success());
  CHECK(cmd("sleep", "0.1").stdin_bytes(pattern(stream_bytes)).run().status.success());
}

TEST_CASE("a grandchild holding the capture pipe: the capture waits for it and loses nothing") {
  test::leak_check leaks;
  // Like $(...): the capture ends at end of file, when the last writer is gone.
  CHECK(cmd("sh", "-c", "(sleep 0.3; echo late) & echo early").read() == "early\nlate");
  // A kill does not wait for it: what was there is kept.
  auto running = cmd("sh", "-c", "sleep 37.25 & echo early; exec sleep 30").stdout_capture().unchecked().start();
  REQUIRE(test::eventually([&] { return running.pids().size() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  running.kill();
  CHECK(running.wait().stdout_bytes == "early\n");
  // The orphaned grandchild holds the pipe: end it so nothing outlives the test
  // (its unusual argument keeps this from touching any other test's sleep).
  cmd("pkill", "-f", "^sleep 37.25$").unchecked().run();
}

TEST_CASE("a child that ignores SIGTERM under a timeout is killed after the grace period") {
  test::leak_check leaks;
  const auto start = std::chrono::steady_clock::now();
  try {
    cmd("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done")
        .timeout(std::chrono::milliseconds(100), std::chrono::milliseconds(200))
        .stdout_capture()
        .new_process_group()
        .run();
    FAIL("no timeout");
  } catch (const timeout_error& e) {
    CHECK(e.output().status.signal() == SIGKILL);
    CHECK(e.output().stdout_bytes == "ready\n");
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}
