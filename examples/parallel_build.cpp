// Runs build steps four at a time, the way a small build tool would, and
// reports each one as it ends. The waiting is a plain poll() over the
// handles' completion descriptors, to show how ductile plugs into an event
// loop of your own (epoll, asio, libuv work the same way).
//
// usage: parallel_build [shell-command...]   (default: eight simulated compile steps)

#include <poll.h>

#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using namespace ductile;
  std::vector<std::string> steps(argv + 1, argv + argc);
  if (steps.empty()) {
    for (const char* unit : {"main", "parse", "lower", "spawn", "supervise", "format", "pool", "broken"}) {
      const std::string name = unit;
      steps.push_back(name == "broken" ? "sleep 0.2; echo 'broken.c:3: error: expected ;' >&2; exit 1"
                                       : "sleep 0.$(($$ % 5)); echo compiled " + name + ".o");
    }
  }

  pool workers(4, failure_policy::keep_going);
  std::vector<handle> jobs;
  for (const auto& step : steps) jobs.push_back(workers.submit(sh(step).stdout_capture().stderr_capture()));

  std::vector<bool> reported(jobs.size(), false);
  std::size_t done = 0;
  int failures = 0;
  while (done < jobs.size()) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (reported[i]) continue;
      fds.push_back(pollfd{jobs[i].completion_fd(), POLLIN, 0});
      which.push_back(i);
    }
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      const std::size_t i = which[k];
      reported[i] = true;
      ++done;
      try {
        const output& out = jobs[i].wait();
        std::printf("[%zu/%zu] ok   %s", done, jobs.size(), out.stdout_bytes.c_str());
      } catch (const status_error& e) {
        ++failures;
        std::printf("[%zu/%zu] FAIL %s\n%s", done, jobs.size(), e.what(), e.output().stderr_bytes.c_str());
      } catch (const error& e) {
        ++failures;
        std::printf("[%zu/%zu] FAIL %s\n", done, jobs.size(), e.what());
      }
    }
  }
  std::printf("%zu steps, %d failed\n", jobs.size(), failures);
  return failures == 0 ? 0 : 1;
}
