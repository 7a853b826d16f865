// libuv: uv_spawn on the default loop, run until the process (and its pipe)
// have closed; the pipe read with uv_read_start into a doubling buffer.
#include <unistd.h>
#include <uv.h>

#include "workload.hpp"

namespace {

void closed(uv_handle_t*) {}
// Every workload runs programs that succeed: anything else is a broken run.
void exited(uv_process_t* process, int64_t status, int signal) {
  if (status != 0 || signal != 0) std::abort();
  uv_close(reinterpret_cast<uv_handle_t*>(process), closed);
}

void spawn(uv_process_t& process, const std::vector<std::string>& argv, uv_stdio_container_t* stdio, int count) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  uv_process_options_t options{};
  options.exit_cb = exited;
  options.file = args[0];
  options.args = args.data();
  options.stdio = stdio;
  options.stdio_count = count;
  if (uv_spawn(uv_default_loop(), &process, &options) != 0) std::abort();
}

void make_room(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto* bytes = static_cast<peer::growing_buffer*>(handle->data);
  char* into = bytes->free_space();
  *buffer = uv_buf_init(into, static_cast<unsigned>(bytes->room()));
}

void received(uv_stream_t* stream, ssize_t got, const uv_buf_t*) {
  auto* bytes = static_cast<peer::growing_buffer*>(stream->data);
  if (got > 0) bytes->filled(static_cast<std::size_t>(got));
  if (got < 0) uv_close(reinterpret_cast<uv_handle_t*>(stream), closed);
}
}  // namespace

void peer::spawn_true() {
  uv_process_t process;
  spawn(process, {"true"}, nullptr, 0);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}

std::size_t peer::capture(const std::vector<std::string>& argv) {
  uv_pipe_t out;
  uv_pipe_init(uv_default_loop(), &out, 0);
  growing_buffer bytes;
  out.data = &bytes;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(&out);
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  uv_process_t process;
  spawn(process, argv, stdio, 3);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&out), make_room, received);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  return bytes.size();
}

void peer::pipeline_true() {
  uv_file first[2], second[2];
  if (uv_pipe(first, 0, 0) != 0 || uv_pipe(second, 0, 0) != 0) std::abort();
  uv_stdio_container_t stdio[3][3];
  const int in[3] = {0, first[0], second[0]};
  const int out[3] = {first[1], second[1], 1};
  uv_process_t processes[3];
  for (int stage = 0; stage < 3; ++stage) {
    const int fds[3] = {in[stage], out[stage], 2};
    for (int i = 0; i < 3; ++i) {
      stdio[stage][i].flags = UV_INHERIT_FD;
      stdio[stage][i].data.fd = fds[i];
    }
    spawn(processes[stage], {"true"}, stdio[stage], 3);
  }
  for (int fd : {first[0], first[1], second[0], second[1]}) close(fd);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}

namespace {
// libuv's own way to keep N running: one loop, and each exit starts the next.
struct job_queue {
  long left = 0;
};
void start_next(job_queue& queue);
void job_closed(uv_handle_t* handle) {
  auto* queue = static_cast<job_queue*>(handle->data);
  delete reinterpret_cast<uv_process_t*>(handle);
  start_next(*queue);
}
void job_exited(uv_process_t* process, int64_t status, int signal) {
  if (status != 0 || signal != 0) std::abort();
  uv_close(reinterpret_cast<uv_handle_t*>(process), job_closed);
}
void start_next(job_queue& queue) {
  if (queue.left == 0) return;
  --queue.left;
  char program[] = "true";
  char* args[] = {program, nullptr};
  uv_process_options_t options{};
  options.exit_cb = job_exited;
  options.file = program;
  options.args = args;
  auto* process = new uv_process_t;
  process->data = &queue;
  if (uv_spawn(uv_default_loop(), process, &options) != 0) std::abort();
}
}  // namespace

void peer::pool(long count, int parallel) {
  job_queue queue{count};
  for (int i = 0; i < parallel; ++i) start_next(queue);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}

// The pool above is already libuv's asynchronous way.
void peer::async_jobs(long count, int parallel) { pool(count, parallel); }
