// A script that uses ductile, for what only a whole process shows: exit
// statuses from script_main, interrupts, parent death, output order.
//
//   script_host exit N | killed | missing | noexec FILE | other | value
//   script_host interrupt DIR run|start   writes DIR/ready, then waits; on SIGINT
//                                         unwinds (DIR/unwound) and checks the
//                                         SIGINT disposition was restored
//   script_host noguard DIR               the same wait without a guard
//   script_host orphan DIR run|start      a kill_on_parent_exit() sleep; its pid in DIR/child
//   script_host order                     printf, then a child on the same stdout
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ductile/ductile.hpp>
#include <fstream>
#include <stdexcept>
#include <string>

using namespace ductile;

namespace {

void mark(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

void marker_handler(int) {}

struct unwinding {
  std::string path;
  ~unwinding() { mark(path, "unwound"); }
};

int wait_for_interrupt(const std::string& dir, const std::string& how) {
  unwinding sentinel{dir + "/unwound"};
  // A sleeper in its own process group, and a pipeline whose shell has a child of its own.
  handle sleeper = cmd("sleep", "100").new_process_group().start();
  handle pipeline = (cmd("sh", "-c", "sleep 100 | cat") | cmd("cat")).new_process_group().start();
  mark(dir + "/ready", "ready");
  if (how == "run") {
    cmd("sleep", "100").run();
  } else {
    sleeper.wait();
  }
  pipeline.wait();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string mode = argv[1];
  const std::string dir = argc > 2 ? argv[2] : "";
  const std::string how = argc > 3 ? argv[3] : "run";
  if (mode == "exit") return script_main([&] { cmd("sh", "-c", std::string("exit ") + argv[2]).run(); });
  if (mode == "killed") return script_main([] { sh("kill -9 $$").run(); });
  if (mode == "missing") return script_main([] { cmd("no-such-program-for-script-host").run(); });
  if (mode == "noexec") return script_main([&] { cmd(std::string(argv[2])).run(); });
  if (mode == "other") return script_main([]() -> int { throw std::runtime_error("plain failure"); });
  if (mode == "value") return script_main([] { return 5; });
  if (mode == "interrupt") {
    struct sigaction marker {};
    marker.sa_handler = marker_handler;
    sigemptyset(&marker.sa_mask);
    sigaction(SIGINT, &marker, nullptr);
    const int status = script_main([&] { return wait_for_interrupt(dir, how); });
    struct sigaction now {};
    sigaction(SIGINT, nullptr, &now);
    if (now.sa_handler == marker_handler) mark(dir + "/restored", "restored");
    return status;
  }
  if (mode == "noguard") return wait_for_interrupt(dir, "start");
  if (mode == "orphan") {
    if (how == "start") {
      handle h = cmd("sleep", "100").kill_on_parent_exit().start();
      mark(dir + "/child", std::to_string(h.pids().at(0)));
      h.wait();
    } else {
      cmd("sh", "-c", "echo $$ > \"$1\"; exec sleep 100", "sh", dir + "/child").kill_on_parent_exit().run();
    }
    return 0;
  }
  if (mode == "order") {
    for (int i = 0; i < 3; ++i) {
      std::printf("tagged %d\n", i);
      cmd("echo", "child", i).run();
    }
    return 0;
  }
  return 2;
}
