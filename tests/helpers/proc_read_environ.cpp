// proc_read_environ PID: reads PID's environment through ductile::proc and
// prints what happened: "ok", or the error's code name, pid and file.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ductile/proc.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const pid_t pid = static_cast<pid_t>(std::atoi(argv[1]));
  try {
    (void)ductile::proc::process(pid).environ();
    std::puts("ok");
  } catch (const ductile::proc::no_such_process& e) {
    std::printf("gone %d %s\n", static_cast<int>(e.pid()), e.file().c_str());
  } catch (const ductile::proc::error& e) {
    std::printf("%s %d %s\n%s\n", e.code().value() == EACCES ? "EACCES" : "other", static_cast<int>(e.pid()),
                e.file().c_str(), e.what());
  }
  return 0;
}
