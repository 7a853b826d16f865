// A build tool that is a good citizen of make -j.
//   jobserver_tool run COUNTER DIR JOBS FALLBACK: runs JOBS `COUNTER DIR 100000`
//     in pool::from_jobserver(FALLBACK); exits 0 if all succeeded.
//   jobserver_tool stop: from_jobserver(1, failure_policy::stop, 1 s) runs a
//     sleep, a job that fails after 0.3 s and two more sleeps; prints each
//     job's end ("cancelled", "exit code 3", "ok") in submission order.
//   jobserver_tool guarded: under an interrupt_guard, from_jobserver(1) runs
//     one `true` (what script_main does first).
//   jobserver_tool late DIR: from_jobserver(1) runs a job that waits for
//     DIR/done, and once it runs, a second job that makes DIR/done; prints
//     "ok" when both ended (the second runs on a token).
//   jobserver_tool tokens: prints how many tokens the jobserver in MAKEFLAGS
//     holds right now (taken without blocking, then given back).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace ductile;

namespace {

// Reads the last --jobserver-auth= the way make does, independently of the library.
int count_tokens() {
  const char* flags = std::getenv("MAKEFLAGS");
  if (flags == nullptr) return 2;
  const std::string text = flags;
  const std::string option = "--jobserver-auth=";
  const std::size_t at = text.rfind(option);
  if (at == std::string::npos) return 2;
  const std::string value = text.substr(at + option.size(), text.find(' ', at) - at - option.size());
  const bool fifo = value.rfind("fifo:", 0) == 0;
  const std::string path = fifo ? value.substr(5) : "/proc/self/fd/" + value.substr(0, value.find(','));
  const int reader = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  const int writer = fifo ? open(path.c_str(), O_WRONLY | O_CLOEXEC) : std::atoi(value.c_str() + value.find(',') + 1);
  if (reader < 0 || writer < 0) return 3;
  std::string taken;
  char token;
  while (read(reader, &token, 1) == 1) taken.push_back(token);
  if (!taken.empty() && write(writer, taken.data(), taken.size()) != static_cast<ssize_t>(taken.size())) return 4;
  std::printf("%zu\n", taken.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "tokens") return count_tokens();
  if (args.size() == 2 && args[0] == "late") {
    const std::string started = args[1] + "/started", done = args[1] + "/done";
    pool jobs = pool::from_jobserver(1);
    (void)jobs.submit(cmd("sh", "-c", "touch \"$0\"; until [ -e \"$1\" ]; do sleep 0.05; done", started, done));
    while (access(started.c_str(), F_OK) != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    (void)jobs.submit(cmd("touch", done));
    jobs.wait_all();
    std::puts("ok");
    return 0;
  }
  if (args.size() == 1 && args[0] == "guarded") {
    interrupt_guard guard;
    pool jobs = pool::from_jobserver(1);
    (void)jobs.submit(cmd("true"));
    jobs.wait_all();
    return 0;
  }
  if (args.size() == 1 && args[0] == "stop") {
    pool jobs = pool::from_jobserver(1, failure_policy::stop, std::chrono::seconds(1));
    std::vector<handle> handles;
    handles.push_back(jobs.submit(cmd("sleep", "30")));
    handles.push_back(jobs.submit(cmd("sh", "-c", "sleep 0.3; exit 3")));
    handles.push_back(jobs.submit(cmd("sleep", "30")));
    handles.push_back(jobs.submit(cmd("sleep", "30")));
    jobs.wait_all();
    for (auto& h : handles) {
      try {
        h.wait();
        std::puts("ok");
      } catch (const cancelled_error&) {
        std::puts("cancelled");
      } catch (const status_error& e) {
        std::printf("%s\n", fmt::format("{}", e.output().status).c_str());
      }
    }
    return jobs.stopped() ? 0 : 1;
  }
  if (args.size() != 5 || args[0] != "run") return 2;
  pool jobs = pool::from_jobserver(std::stoul(args[4]));
  std::vector<handle> handles;
  for (int i = 0; i < std::stoi(args[3]); ++i) handles.push_back(jobs.submit(cmd(args[1], args[2], "100000")));
  jobs.wait_all();
  try {
    for (auto& h : handles) h.wait();
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "%s\n", failure.what());
    return 1;
  }
  return 0;
}
