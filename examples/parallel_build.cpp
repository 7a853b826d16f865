// Runs build steps the way a small build tool would: four at a time, or as
// many as the jobserver of a `make -j` that started it allows, with a
// ninja-style status line. On a terminal the line is rewritten in place
// (`[3/8] cc -c lower.c`); otherwise each step gets a line of its own. A
// failing step's message, which ends with its stderr, is printed under it.
//
// usage: parallel_build [shell-command...]   (default: eight simulated compile steps)

#include <unistd.h>

#include <cstdio>
#include <ductile/ductile.hpp>
#include <mutex>
#include <string>
#include <vector>

namespace {

struct step {
  std::string description;
  std::string command;
};

std::vector<step> simulated_compile() {
  std::vector<step> steps;
  for (const char* unit : {"main", "parse", "lower", "spawn", "supervise", "format", "pool", "broken"}) {
    const std::string name = unit;
    steps.push_back({"cc -c " + name + ".c", name == "broken"
                                                 ? "sleep 0.2; echo 'broken.c:3: error: expected ;' >&2; exit 1"
                                                 : "sleep 0.$(($$ % 5)); echo compiled " + name + ".o"});
  }
  return steps;
}

// The status line: rewritten in place on a terminal, one line per update elsewhere.
class status_line {
 public:
  status_line() : terminal_(::isatty(STDERR_FILENO) == 1) {}

  void show(const std::string& text, bool finished_step) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (terminal_) {
      std::fprintf(stderr, "\r\033[K%s", text.c_str());
    } else if (finished_step) {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
  }
  // Text that must stay on the screen: printed below the status line.
  void print_below(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::fprintf(stderr, "%s%s", terminal_ ? "\r\033[K" : "", text.c_str());
  }
  void end() {
    if (terminal_) std::fprintf(stderr, "\n");
  }

 private:
  bool terminal_;
  std::mutex mutex_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace ductile;
  std::vector<step> steps;
  for (int i = 1; i < argc; ++i) steps.push_back({argv[i], argv[i]});
  if (steps.empty()) steps = simulated_compile();

  status_line line;
  pool workers = pool::from_jobserver(4);
  workers.on_progress([&line](const progress& now) {
    // Between two finished steps, the terminal line shows what is going on.
    if (now.running > 0)
      line.show("[" + std::to_string(now.done) + "/" + std::to_string(now.total) + "] " + std::to_string(now.running) +
                    " running",
                false);
  });
  std::vector<handle> jobs;
  for (const auto& s : steps) jobs.push_back(workers.submit(sh(s.command).stdout_capture().stderr_capture()));

  std::size_t done = 0;
  int failures = 0;
  while (const auto index = workers.wait_any()) {
    ++done;
    line.show("[" + std::to_string(done) + "/" + std::to_string(jobs.size()) + "] " + steps[*index].description, true);
    try {
      jobs[*index].wait();
    } catch (const error& e) {  // a status_error's message ends with the step's stderr
      ++failures;
      line.print_below(std::string("FAILED: ") + e.what() + "\n");
    }
  }
  line.end();
  std::printf("%zu steps, %d failed\n", jobs.size(), failures);
  return failures == 0 ? 0 : 1;
}
