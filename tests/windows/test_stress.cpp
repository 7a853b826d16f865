// The Windows twin of behaviour/test_stress.cpp, bounded in time: many
// threads and processes on the one completion port, large streams, and a
// spawning thread that must leak no handle into another run's pipes.
#include <atomic>
#include <thread>

#include "windows_support.hpp"

using namespace ductile;
using namespace std::chrono_literals;
using test::win_helper;
namespace fs = std::filesystem;

TEST_CASE("4 threads mixing pipelines, kills, timeouts and dropped handles leave nothing behind") {
  constexpr int threads = 4;
  constexpr int iterations = 10;
  std::atomic<std::size_t> captured{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < iterations; ++i) {
        try {
          switch ((t + i) % 5) {
            case 0: {  // a captured pipeline: every byte must arrive
              const auto text = (win_helper("bytes", "100000") | win_helper("cat")).read();
              if (text.size() != 100000) ++failures;
              captured += text.size();
              break;
            }
            case 1: {  // killed while running
              auto running = (win_helper("sleep", "30000") | win_helper("cat")).stdout_capture().start();
              running.kill();
              try {
                running.wait();
                ++failures;
              } catch (const status_error&) {
              }
              break;
            }
            case 2:  // timed out
              try {
                win_helper("sleep", "30000").timeout(20ms).run();
                ++failures;
              } catch (const timeout_error&) {
              }
              break;
            case 3: {  // dropped while running: the destructor ends it
              auto dropped = (win_helper("sleep", "30000") | win_helper("cat")).start();
              (void)dropped;
              break;
            }
            default: {  // stdin, stdout and stderr at once
              const auto out = win_helper("flood", "200000")
                                   .stdin_bytes(std::string(200000, 'i'))
                                   .stdout_capture()
                                   .stderr_capture()
                                   .run();
              if (out.stdout_bytes.substr(0, 200000) != std::string(200000, 'o') ||
                  out.stderr_bytes != std::string(200000, 'e'))
                ++failures;
              captured += 200000 * 2;
              break;
            }
          }
        } catch (const std::exception& e) {
          MESSAGE(e.what());
          ++failures;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  CHECK(failures == 0);
  CHECK(test::eventually([] { return test::children().empty(); }));
}

TEST_CASE("while one thread spawns long-lived children, cat | cat pipelines on another all finish") {
  std::atomic<bool> done{false};
  std::thread spawner([&] {
    std::vector<handle> alive;
    while (!done) {
      alive.push_back(win_helper("sleep", "5000").start());
      if (alive.size() > 10) alive.erase(alive.begin());  // ended as dropped
    }
  });
  // A pipe end leaked into one of the sleeping children would keep a `cat`
  // waiting for its end: the timeout turns such a hang into a failure.
  int finished = 0;
  for (int i = 0; i < 40; ++i) {
    const auto text = (win_helper("cat") | win_helper("cat")).stdin_bytes("hello").timeout(20s).read();
    if (text == "hello") ++finished;
  }
  done = true;
  spawner.join();
  CHECK(finished == 40);
}

TEST_CASE("a child that never reads its stdin: all of it offered, no error, no hang") {
  CHECK(win_helper("exit", "0").stdin_bytes(std::string(64 << 20, 'x')).run().status.success());
  CHECK(win_helper("sleep", "100").stdin_bytes(std::string(64 << 20, 'x')).run().status.success());
}

TEST_CASE("64 MiB through stdin, stdout and stderr at once, into captures and files") {
  test::temp_dir tmp;
  const std::size_t size = 64u << 20;
  const auto out = win_helper("flood", std::to_string(size))
                       .stdin_bytes(std::string(size, 'i'))
                       .stdout_capture()
                       .stderr_path(tmp / "err")
                       .run();
  CHECK(out.stdout_bytes.size() == size + std::string("\nstdin 67108864\n").size());
  CHECK(fs::file_size(tmp / "err") == size);
}
