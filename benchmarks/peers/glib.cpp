// GLib's GSubprocess: g_subprocess_newv and wait; communicate() for stdout.
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>

#include "workload.hpp"

namespace {
GSubprocess* start(const std::vector<std::string>& argv, GSubprocessFlags flags) {
  std::vector<const char*> args;
  for (const auto& a : argv) args.push_back(a.c_str());
  args.push_back(nullptr);
  GError* error = nullptr;
  GSubprocess* process = g_subprocess_newv(args.data(), flags, &error);
  if (process == nullptr) std::abort();
  return process;
}
}  // namespace

void peer::spawn_true() {
  GSubprocess* process = start({"true"}, G_SUBPROCESS_FLAGS_NONE);
  if (!g_subprocess_wait(process, nullptr, nullptr) || !g_subprocess_get_successful(process)) std::abort();
  g_object_unref(process);
}

std::size_t peer::capture(const std::vector<std::string>& argv) {
  GSubprocess* process = start(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  GBytes* out = nullptr;
  if (!g_subprocess_communicate(process, nullptr, nullptr, &out, nullptr, nullptr)) std::abort();
  const std::size_t size = g_bytes_get_size(out);
  g_bytes_unref(out);
  g_object_unref(process);
  return size;
}

namespace {
// One launcher per stage: it owns the descriptors it was given and closes
// them when it goes, right after its stage has started.
GSubprocess* start_stage(int in, int out) {
  GSubprocessLauncher* launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
  if (in >= 0) g_subprocess_launcher_take_stdin_fd(launcher, in);
  if (out >= 0) g_subprocess_launcher_take_stdout_fd(launcher, out);
  GError* error = nullptr;
  GSubprocess* process = g_subprocess_launcher_spawn(launcher, &error, "true", nullptr);
  g_object_unref(launcher);
  if (process == nullptr) std::abort();
  return process;
}
void wait_for(GSubprocess* process) {
  if (!g_subprocess_wait(process, nullptr, nullptr) || !g_subprocess_get_successful(process)) std::abort();
  g_object_unref(process);
}
}  // namespace

void peer::pipeline_true() {
  int first[2], second[2];
  if (!g_unix_open_pipe(first, FD_CLOEXEC, nullptr) || !g_unix_open_pipe(second, FD_CLOEXEC, nullptr)) std::abort();
  GSubprocess* a = start_stage(-1, first[1]);
  GSubprocess* b = start_stage(first[0], second[1]);
  GSubprocess* c = start_stage(second[0], -1);
  wait_for(a);
  wait_for(b);
  wait_for(c);
}

// GSubprocess is thread-safe and has no pool: threads, each spawning and waiting.
void peer::pool(long count, int parallel) { pool_of_threads(count, parallel); }

namespace {
// g_subprocess_wait_async on the default main context, the next process
// started from each callback.
struct async_queue {
  long left = 0;
  long running = 0;
  GMainLoop* loop = nullptr;
};
void start_async(async_queue& queue);
void waited(GObject* source, GAsyncResult* result, gpointer data) {
  auto& queue = *static_cast<async_queue*>(data);
  auto* process = G_SUBPROCESS(source);
  if (!g_subprocess_wait_finish(process, result, nullptr) || !g_subprocess_get_successful(process)) std::abort();
  g_object_unref(process);
  --queue.running;
  start_async(queue);
  if (queue.running == 0) g_main_loop_quit(queue.loop);
}
void start_async(async_queue& queue) {
  if (queue.left == 0) return;
  --queue.left;
  ++queue.running;
  g_subprocess_wait_async(start({"true"}, G_SUBPROCESS_FLAGS_NONE), nullptr, waited, &queue);
}
}  // namespace

void peer::async_jobs(long count, int parallel) {
  async_queue queue{count, 0, g_main_loop_new(nullptr, FALSE)};
  for (int i = 0; i < parallel; ++i) start_async(queue);
  if (queue.running > 0) g_main_loop_run(queue.loop);
  g_main_loop_unref(queue.loop);
}
