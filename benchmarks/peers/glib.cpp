// GLib's GSubprocess: g_subprocess_newv and wait; communicate() for stdout.
#include <gio/gio.h>

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
  if (!g_subprocess_wait(process, nullptr, nullptr)) std::abort();
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
