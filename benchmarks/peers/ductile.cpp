// ductile: run() and a captured stdout; pipelines, pool() and async_run.
#include <asio/io_context.hpp>
#include <ductile/asio.hpp>
#include <ductile/ductile.hpp>
#include <functional>

#include "workload.hpp"

void peer::spawn_true() { ductile::cmd("true").run(); }

std::size_t peer::capture(const std::vector<std::string>& argv) {
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  return ductile::cmd(argv[0], args).stdout_capture().run().stdout_bytes.size();
}

void peer::pipeline_true() { (ductile::cmd("true") | ductile::cmd("true") | ductile::cmd("true")).run(); }

// The handles are kept and waited, which throws for a job that failed.
void peer::pool(long count, int parallel) {
  ductile::pool jobs(static_cast<std::size_t>(parallel));
  const auto job = ductile::cmd("true");
  std::vector<ductile::handle> handles;
  handles.reserve(static_cast<std::size_t>(count));
  for (long i = 0; i < count; ++i) handles.push_back(jobs.submit(job));
  jobs.wait_all();
  for (auto& handle : handles) handle.wait();
}

// async_run on one io_context thread, the next job started from each
// completion handler; a failure reaches the handler as an exception.
void peer::async_jobs(long count, int parallel) {
  asio::io_context context;
  const auto job = ductile::cmd("true");
  long started = 0;
  std::function<void()> next = [&] {
    if (started == count) return;
    ++started;
    ductile::async_run(context.get_executor(), job, [&](std::exception_ptr error, ductile::output) {
      if (error) std::abort();
      next();
    });
  };
  for (int i = 0; i < parallel; ++i) next();
  context.run();
}
