#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include <fcntl.h>
#include <io.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "os/polled_stream.hpp"
#include "os/windows/io_port.hpp"
#include "os/windows/private_objects.hpp"

namespace ductile::detail::windows {

// What a packet's completion key says it is.
enum packet_kind : ULONG_PTR { stream_packet = 1, exit_packet = 2 };

// As much as one write takes; a larger one is made in pieces.
inline constexpr std::size_t write_piece = 64 * 1024;
// What a pipe holds before its writer waits: a quota, not memory taken up
// front. Each wait costs a round of the port, so more room means fewer.
inline constexpr DWORD pipe_buffer = 1024 * 1024;

struct record;

struct stream_operation {
  OVERLAPPED overlapped;  // first: a packet's OVERLAPPED* is this
  record* owner;
  bool is_write;
};

struct watch_entry {
  waiter* who;
  std::uint32_t owner;
  short events;
  int number;  // as watched: a duplicated stream has more than one
};

struct record {
  enum class kind : unsigned char { stream, event, process, console } what = kind::stream;
  int number = -1;
  int names = 1;                  // numbers naming it (a duplicated stream has two)
  HANDLE handle = nullptr;        // a stream's own handle of the parent's end; a process
  HANDLE write_handle = nullptr;  // a terminal's master writes here, reads from `handle`
  void* console = nullptr;        // a pseudo console, an HPCON (kind::console)
  int attached = 0;               // a console: processes attached and still running
  int console_number = -1;        // a terminal's master, an attached process: its console
  HANDLE job = nullptr;
  HANDLE exit_wait = nullptr;  // RegisterWaitForSingleObject's
  HANDLE mirror = nullptr;     // an event's Win32 twin, for waits outside the library
  int outer = -1;              // a job's enclosing job, by number
  stream_operation read_op{};
  stream_operation write_op{};
  bool read_pending = false;   // a zero-byte read is in flight
  bool readable = false;       // it completed, or the stream ended: a read will not wait
  bool write_pending = false;  // a write is in flight
  bool write_failed = false;   // the reader has gone
  bool signalled = false;      // an event that is set; a process that has ended
  bool released = false;       // its number is gone; freed once nothing is in flight
  bool nonblocking = false;    // a read or write that would wait says EAGAIN instead
  std::unique_ptr<char[]> write_buffer;
  std::vector<watch_entry> watches;
};

struct port_state {
  std::mutex lock;
  HANDLE port = nullptr;
  std::unordered_map<int, record*> by_number;
  std::unordered_map<int, record*> consoles;  // by number, until closed (released ones too)
  int next_object = object_numbers;
};

DUCTILE_INLINE short ready_now(record& r, short events) noexcept {
  short ready = 0;
  switch (r.what) {
    case record::kind::stream:
      if ((events & os::ready_to_read) && r.readable) ready |= os::ready_to_read;
      if ((events & os::ready_to_write) && !r.write_pending) ready |= os::ready_to_write;
      break;
    case record::kind::event:
    case record::kind::process:
      if ((events & os::ready_to_read) && r.signalled) ready |= os::ready_to_read;
      break;
    case record::kind::console: break;  // never waited for
  }
  return ready;
}

// Starts what makes `events` come: a zero-byte read on a stream.
DUCTILE_INLINE void arm(record& r, short events) noexcept {
  if (r.what == record::kind::process && !r.signalled) {
    if (r.handle != nullptr && ::WaitForSingleObject(r.handle, 0) == WAIT_OBJECT_0) r.signalled = true;
    return;
  }
  if (r.what != record::kind::stream || !(events & os::ready_to_read)) return;
  if (r.readable || r.read_pending) return;
  std::memset(&r.read_op.overlapped, 0, sizeof r.read_op.overlapped);
  static char nothing;
  if (::ReadFile(r.handle, &nothing, 0, nullptr, &r.read_op.overlapped)) {
    r.read_pending = true;  // its packet still comes
    r.readable = true;
  } else if (::GetLastError() == ERROR_IO_PENDING) {
    r.read_pending = true;
  } else {
    r.readable = true;  // ended or failed: the read says which
  }
  if (r.readable && r.mirror != nullptr) ::SetEvent(r.mirror);
}

DUCTILE_INLINE void notify(record& r) noexcept {
  auto& watches = r.watches;
  for (std::size_t i = 0; i < watches.size();) {
    const short ready = ready_now(r, watches[i].events);
    if (ready == 0) {
      ++i;
      continue;
    }
    waiter* who = watches[i].who;
    try {
      who->reports.push_back(sys::readiness{watches[i].owner, watches[i].number, ready});
    } catch (...) {
      // Out of memory: the waiter wakes and looks again.
    }
    ::SetEvent(who->wake);
    watches[i] = watches.back();
    watches.pop_back();
  }
}

DUCTILE_INLINE void free_if_idle(record* r) noexcept {
  if (r->released && !r->read_pending && !r->write_pending) delete r;
}

DUCTILE_INLINE const console_functions& pseudo_consoles() noexcept {
  static const console_functions loaded = [] {
    console_functions f;
    if (HMODULE kernel = ::GetModuleHandleW(L"kernel32.dll")) {
      f.create = reinterpret_cast<decltype(f.create)>(
          reinterpret_cast<void (*)()>(::GetProcAddress(kernel, "CreatePseudoConsole")));
      f.resize = reinterpret_cast<decltype(f.resize)>(
          reinterpret_cast<void (*)()>(::GetProcAddress(kernel, "ResizePseudoConsole")));
      f.close = reinterpret_cast<decltype(f.close)>(
          reinterpret_cast<void (*)()>(::GetProcAddress(kernel, "ClosePseudoConsole")));
    }
    return f;
  }();
  return loaded;
}

DUCTILE_INLINE void close_stream_handles(record& r) noexcept {
  if (r.handle != nullptr) ::CloseHandle(r.handle);
  if (r.write_handle != nullptr) ::CloseHandle(r.write_handle);
  r.handle = nullptr;
  r.write_handle = nullptr;
}

// A pseudo console is closed once its number is gone and every process
// attached to it has ended: closing it ends what is still attached, and
// ends its output, which the master then reads as the end of the stream.
// ClosePseudoConsole may wait for that output to be read, which needs this
// port's thread: it is called on a thread of its own.
DUCTILE_INLINE void close_console_if_done(port_state& state, record* console) noexcept {
  if (!console->released || console->attached > 0) return;
  state.consoles.erase(console->number);
  void* closing = console->console;
  console->console = nullptr;
  delete console;
  if (closing == nullptr) return;
  try {
    std::thread([closing] { pseudo_consoles().close(closing); }).detach();
  } catch (...) {
    pseudo_consoles().close(closing);
  }
}

DUCTILE_INLINE void detach_from_console(port_state& state, record& process) noexcept {
  if (process.console_number < 0) return;
  const auto found = state.consoles.find(process.console_number);
  process.console_number = -1;
  if (found == state.consoles.end()) return;
  record* console = found->second;
  --console->attached;
  close_console_if_done(state, console);
}

DUCTILE_INLINE void serve(port_state& state) {
  OVERLAPPED_ENTRY entries[64];
  for (;;) {
    ULONG count = 0;
    if (!::GetQueuedCompletionStatusEx(state.port, entries, 64, &count, INFINITE, FALSE)) continue;
    std::lock_guard<std::mutex> guard(state.lock);
    for (ULONG i = 0; i < count; ++i) {
      const OVERLAPPED_ENTRY& entry = entries[i];
      if (entry.lpCompletionKey == stream_packet) {
        auto* operation = reinterpret_cast<stream_operation*>(entry.lpOverlapped);
        record* r = operation->owner;
        if (operation->is_write) {
          r->write_pending = false;
          if (operation->overlapped.Internal != 0) r->write_failed = true;
          // A release that came while the write was in flight closes now.
          if (r->released) close_stream_handles(*r);
        } else {
          r->read_pending = false;
          r->readable = true;
          if (r->mirror != nullptr) ::SetEvent(r->mirror);
        }
        if (r->released)
          free_if_idle(r);
        else
          notify(*r);
      } else if (entry.lpCompletionKey == exit_packet) {
        const int number = static_cast<int>(reinterpret_cast<std::intptr_t>(entry.lpOverlapped));
        const auto found = state.by_number.find(number);
        if (found == state.by_number.end()) continue;
        record& ended = *found->second;
        if (!ended.signalled) detach_from_console(state, ended);
        ended.signalled = true;
        notify(ended);
      }
    }
  }
}

// Immortal: packets may come as long as the process lives.
DUCTILE_INLINE port_state& state() {
  static port_state* const instance = [] {
    auto* made = new port_state();
    made->port = ::CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    std::thread([made] { serve(*made); }).detach();
    return made;
  }();
  return *instance;
}

DUCTILE_INLINE record* find(port_state& s, int number) noexcept {
  const auto found = s.by_number.find(number);
  return found == s.by_number.end() ? nullptr : found->second;
}

DUCTILE_INLINE std::error_code errno_code(int value) noexcept {
  return std::error_code(value, std::generic_category());
}

DUCTILE_INLINE waiter::waiter() : wake(::CreateEventW(nullptr, FALSE, FALSE, nullptr)) {
  if (wake == nullptr) throw std::system_error(last_error(), "make an event");
}

DUCTILE_INLINE waiter::~waiter() { ::CloseHandle(wake); }

DUCTILE_INLINE std::error_code make_parent_pipe(pipe_ends& ends, bool parent_reads) noexcept {
  port_state* s = nullptr;
  try {
    s = &state();
  } catch (...) {
    return errno_code(ENOMEM);
  }
  if (s->port == nullptr) return errno_code(EMFILE);
  // A name nobody can guess and a DACL only this user passes: an anonymous
  // pipe cannot be overlapped, and a named one is open to squatting and to
  // other users' clients otherwise.
  std::wstring name = L"\\\\.\\pipe\\ductile-";
  const std::size_t prefix = name.size();
  try {
    name.resize(prefix + 32);
  } catch (...) {
    return errno_code(ENOMEM);
  }
  if (!fill_random_name(name, prefix, 32)) return last_error();
  SECURITY_ATTRIBUTES* const private_to_user = owner_only();
  if (private_to_user == nullptr) return errno_code(EACCES);
  const DWORD direction = parent_reads ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND;
  HANDLE server = ::CreateNamedPipeW(name.c_str(), direction | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                     PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1,
                                     pipe_buffer, pipe_buffer, 0, private_to_user);
  if (server == INVALID_HANDLE_VALUE) return last_error();
  const DWORD access = parent_reads ? GENERIC_WRITE | FILE_READ_ATTRIBUTES : GENERIC_READ | FILE_WRITE_ATTRIBUTES;
  HANDLE client = ::CreateFileW(name.c_str(), access, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (client == INVALID_HANDLE_VALUE) {
    const auto error = last_error();
    ::CloseHandle(server);
    return error;
  }
  HANDLE crt_copy = nullptr;
  if (!::DuplicateHandle(::GetCurrentProcess(), server, ::GetCurrentProcess(), &crt_copy, 0, FALSE,
                         DUPLICATE_SAME_ACCESS) ||
      ::CreateIoCompletionPort(server, s->port, stream_packet, 0) == nullptr) {
    const auto error = last_error();
    if (crt_copy != nullptr) ::CloseHandle(crt_copy);
    ::CloseHandle(server);
    ::CloseHandle(client);
    return error;
  }
  const int parent_mode = _O_BINARY | (parent_reads ? _O_RDONLY : _O_WRONLY);
  const int child_mode = _O_BINARY | (parent_reads ? _O_WRONLY : _O_RDONLY);
  const int parent_fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(crt_copy), parent_mode);
  const int child_fd = parent_fd < 0 ? -1 : ::_open_osfhandle(reinterpret_cast<intptr_t>(client), child_mode);
  if (parent_fd < 0 || child_fd < 0) {
    if (parent_fd >= 0)
      ::_close(parent_fd);
    else
      ::CloseHandle(crt_copy);
    ::CloseHandle(client);
    ::CloseHandle(server);
    return errno_code(EMFILE);
  }
  record* r = nullptr;
  try {
    auto made = std::make_unique<record>();
    made->number = parent_fd;
    made->handle = server;
    made->read_op.owner = made.get();
    made->write_op.owner = made.get();
    made->write_op.is_write = true;
    if (!parent_reads) made->write_buffer.reset(new char[write_piece]);
    std::lock_guard<std::mutex> guard(s->lock);
    s->by_number[parent_fd] = made.get();
    r = made.release();
  } catch (...) {
  }
  if (r == nullptr) {
    ::_close(parent_fd);
    ::_close(child_fd);
    ::CloseHandle(server);
    return errno_code(ENOMEM);
  }
  unique_fd parent(parent_fd);
  unique_fd child(child_fd);
  (parent_reads ? ends.read : ends.write) = std::move(parent);
  (parent_reads ? ends.write : ends.read) = std::move(child);
  return {};
}

DUCTILE_INLINE bool serves(int number) noexcept {
  if (number < 0) return false;
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  return find(s, number) != nullptr;
}

DUCTILE_INLINE std::error_code wait_until_ready(int fd, short events) noexcept {
  try {
    static thread_local waiter blocked;
    std::vector<sys::readiness> ready;
    watch(fd, events, blocked, 0);
    wait(blocked, std::chrono::nanoseconds(-1), ready);
    return {};
  } catch (...) {
    return errno_code(ENOMEM);
  }
}

DUCTILE_INLINE std::error_code read_once(port_state& s, int fd, char* data, std::size_t size, std::size_t& done,
                                         bool& nonblocking) noexcept {
  done = 0;
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, fd);
  if (r == nullptr || r->what != record::kind::stream) return errno_code(EBADF);
  nonblocking = r->nonblocking;
  DWORD available = 0;
  if (!::PeekNamedPipe(r->handle, nullptr, 0, nullptr, &available, nullptr)) {
    const DWORD error = ::GetLastError();
    if (error == ERROR_BROKEN_PIPE || error == ERROR_PIPE_NOT_CONNECTED) return {};  // the end
    return error_from(error);
  }
  if (available == 0) {
    r->readable = false;
    if (r->mirror != nullptr) {
      ::ResetEvent(r->mirror);
      arm(*r, os::ready_to_read);
    }
    return errno_code(EAGAIN);
  }
  const DWORD wanted = static_cast<DWORD>(std::min<std::size_t>(size, available));
  // The low bit of hEvent keeps this read's completion off the port: the
  // bytes are there, so it completes at once, here.
  static thread_local HANDLE done_event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  OVERLAPPED operation{};
  operation.hEvent = reinterpret_cast<HANDLE>(reinterpret_cast<std::uintptr_t>(done_event) | 1);
  DWORD got = 0;
  if (!::ReadFile(r->handle, data, wanted, &got, &operation)) {
    const DWORD error = ::GetLastError();
    if (error != ERROR_IO_PENDING || !::GetOverlappedResult(r->handle, &operation, &got, TRUE)) {
      const DWORD failure = error == ERROR_IO_PENDING ? ::GetLastError() : error;
      if (failure == ERROR_BROKEN_PIPE) return {};
      return error_from(failure);
    }
  }
  done = got;
  r->readable = got < available;
  if (!r->readable && r->mirror != nullptr) {
    ::ResetEvent(r->mirror);
    arm(*r, os::ready_to_read);
  }
  return {};
}

// A stream that is not nonblocking waits as a blocking descriptor does.
DUCTILE_INLINE std::error_code read_stream(int fd, char* data, std::size_t size, std::size_t& done) noexcept {
  port_state& s = state();
  for (;;) {
    bool nonblocking = true;
    const auto error = read_once(s, fd, data, size, done, nonblocking);
    if (error != std::errc::resource_unavailable_try_again || nonblocking) return error;
    if (const auto failure = wait_until_ready(fd, os::ready_to_read)) return failure;
  }
}

DUCTILE_INLINE std::error_code write_once(port_state& s, int fd, const char* data, std::size_t size, std::size_t& done,
                                          bool& nonblocking) noexcept {
  done = 0;
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, fd);
  if (r == nullptr || r->what != record::kind::stream || !r->write_buffer) return errno_code(EBADF);
  nonblocking = r->nonblocking;
  if (r->write_failed) return errno_code(EPIPE);
  if (r->write_pending) return errno_code(EAGAIN);
  const std::size_t piece = std::min(size, write_piece);
  std::memcpy(r->write_buffer.get(), data, piece);
  std::memset(&r->write_op.overlapped, 0, sizeof r->write_op.overlapped);
  HANDLE target = r->write_handle != nullptr ? r->write_handle : r->handle;
  if (!::WriteFile(target, r->write_buffer.get(), static_cast<DWORD>(piece), nullptr, &r->write_op.overlapped)) {
    const DWORD error = ::GetLastError();
    if (error != ERROR_IO_PENDING) {
      r->write_failed = error == ERROR_NO_DATA || error == ERROR_BROKEN_PIPE;
      return r->write_failed ? errno_code(EPIPE) : error_from(error);
    }
  }
  r->write_pending = true;  // done at once or not, its packet comes
  done = piece;
  return {};
}

DUCTILE_INLINE std::error_code write_stream(int fd, const char* data, std::size_t size, std::size_t& done) noexcept {
  port_state& s = state();
  for (;;) {
    bool nonblocking = true;
    const auto error = write_once(s, fd, data, size, done, nonblocking);
    if (error != std::errc::resource_unavailable_try_again || nonblocking) return error;
    if (const auto failure = wait_until_ready(fd, os::ready_to_write)) return failure;
  }
}

DUCTILE_INLINE void set_nonblocking(int fd) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  if (record* r = find(s, fd)) r->nonblocking = true;
}

DUCTILE_INLINE std::error_code make_event(bool signalled, int& number) noexcept {
  try {
    port_state& s = state();
    auto made = std::make_unique<record>();
    made->what = record::kind::event;
    made->signalled = signalled;
    std::lock_guard<std::mutex> guard(s.lock);
    made->number = s.next_object++;
    s.by_number[made->number] = made.get();
    number = made.release()->number;
    return {};
  } catch (...) {
    return errno_code(ENOMEM);
  }
}

DUCTILE_INLINE void set_event(int number, bool signalled) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, number);
  if (r == nullptr) return;
  r->signalled = signalled;
  if (r->mirror != nullptr) signalled ? ::SetEvent(r->mirror) : ::ResetEvent(r->mirror);
  if (signalled) notify(*r);
}

DUCTILE_INLINE HANDLE native_event(int number) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, number);
  if (r == nullptr) return nullptr;
  if (r->mirror != nullptr) return r->mirror;
  if (r->what == record::kind::event) {
    r->mirror = ::CreateEventW(nullptr, TRUE, r->signalled ? TRUE : FALSE, nullptr);
  } else if (r->what == record::kind::stream) {
    r->mirror = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    arm(*r, os::ready_to_read);
    if (r->readable) ::SetEvent(r->mirror);
  }
  return r->mirror;
}

DUCTILE_INLINE void CALLBACK post_exit(PVOID number, BOOLEAN) {
  ::PostQueuedCompletionStatus(state().port, 0, exit_packet, static_cast<LPOVERLAPPED>(number));
}

DUCTILE_INLINE int adopt_process(HANDLE process, HANDLE job, DWORD pid) noexcept {
  (void)pid;
  record* r = nullptr;
  port_state& s = state();
  try {
    auto made = std::make_unique<record>();
    made->what = record::kind::process;
    made->handle = process;
    made->job = job;
    std::lock_guard<std::mutex> guard(s.lock);
    made->number = s.next_object++;
    s.by_number[made->number] = made.get();
    r = made.release();
  } catch (...) {
    return -1;
  }
  const auto number = reinterpret_cast<PVOID>(static_cast<std::intptr_t>(r->number));
  if (!::RegisterWaitForSingleObject(&r->exit_wait, process, post_exit, number, INFINITE,
                                     WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD))
    r->exit_wait = nullptr;  // looked at on each watch instead
  return r->number;
}

DUCTILE_INLINE int adopt_job(HANDLE job, int outer) noexcept {
  port_state& s = state();
  try {
    auto made = std::make_unique<record>();
    made->what = record::kind::process;  // a process that never ends: the job alone
    made->job = job;
    made->outer = outer;
    std::lock_guard<std::mutex> guard(s.lock);
    made->number = s.next_object++;
    s.by_number[made->number] = made.get();
    return made.release()->number;
  } catch (...) {
    return -1;
  }
}

DUCTILE_INLINE int outer_job_of(int number) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, number);
  return r != nullptr ? r->outer : -1;
}

DUCTILE_INLINE HANDLE process_of(int number) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, number);
  return r != nullptr && r->what == record::kind::process ? r->handle : nullptr;
}

DUCTILE_INLINE HANDLE job_of(int number) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, number);
  return r != nullptr && r->what == record::kind::process ? r->job : nullptr;
}

DUCTILE_INLINE void release(int number) noexcept {
  if (number < 0) return;
  port_state& s = state();
  record* r = nullptr;
  {
    std::lock_guard<std::mutex> guard(s.lock);
    const auto found = s.by_number.find(number);
    if (found == s.by_number.end()) return;
    r = found->second;
    s.by_number.erase(found);
    auto& watches = r->watches;
    for (auto it = watches.begin(); it != watches.end();) {
      if (it->number != number) {
        ++it;
        continue;
      }
      ::SetEvent(it->who->wake);
      it = watches.erase(it);
    }
    if (--r->names > 0) return;  // another number still names it
    r->released = true;
    switch (r->what) {
      case record::kind::stream:
        if (r->mirror != nullptr) {
          ::CloseHandle(r->mirror);
          r->mirror = nullptr;
        }
        // A write in flight keeps the handle it writes to until it is done,
        // so its bytes reach the reader; a zero-byte read is cancelled by
        // the close.
        if (!r->write_pending) {
          close_stream_handles(*r);
        } else if (r->write_handle != nullptr && r->handle != nullptr) {
          ::CloseHandle(r->handle);
          r->handle = nullptr;
        }
        free_if_idle(r);
        return;
      case record::kind::console: close_console_if_done(s, r); return;
      case record::kind::process:
        if (!r->signalled) detach_from_console(s, *r);
        break;
      case record::kind::event: break;
    }
  }
  // The exit wait's callback takes no lock, so waiting for it here is safe.
  if (r->exit_wait != nullptr) ::UnregisterWaitEx(r->exit_wait, INVALID_HANDLE_VALUE);
  if (r->handle != nullptr) ::CloseHandle(r->handle);
  if (r->job != nullptr) ::CloseHandle(r->job);
  if (r->mirror != nullptr) ::CloseHandle(r->mirror);
  delete r;
}

DUCTILE_INLINE bool alias(int number, int another) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, number);
  if (r == nullptr) return false;
  try {
    s.by_number[another] = r;
  } catch (...) {
    return false;
  }
  ++r->names;
  return true;
}

// Two pipes, as CreatePseudoConsole takes them: the console reads its input
// from one and writes its output to the other. The parent's ends are
// overlapped and served as one stream, the master.
DUCTILE_INLINE std::error_code open_console(short rows, short cols, unique_fd& master, int& console) noexcept {
  port_state& s = state();
  pipe_ends input, output;
  if (const auto error = make_parent_pipe(input, false)) return error;
  if (const auto error = make_parent_pipe(output, true)) return error;
  const console_functions& api = pseudo_consoles();
  if (api.create == nullptr) return std::make_error_code(std::errc::not_supported);  // before Windows 10 1809
  void* made = nullptr;
  const HRESULT result = api.create(COORD{cols, rows}, reinterpret_cast<HANDLE>(::_get_osfhandle(input.read.get())),
                                    reinterpret_cast<HANDLE>(::_get_osfhandle(output.write.get())), 0, &made);
  if (FAILED(result)) return error_from(static_cast<DWORD>(HRESULT_CODE(result)));
  // The console holds its own copies of its ends (input.read, output.write),
  // which close here. The master is the output's parent end, which takes
  // over the input's for its writes.
  std::lock_guard<std::mutex> guard(s.lock);
  record* reading = find(s, output.read.get());
  record* writing = find(s, input.write.get());
  if (reading == nullptr || writing == nullptr) {
    api.close(made);
    return errno_code(EBADF);
  }
  reading->write_handle = writing->handle;
  writing->handle = nullptr;
  reading->write_buffer = std::move(writing->write_buffer);
  try {
    auto record_of_console = std::make_unique<record>();
    record_of_console->what = record::kind::console;
    record_of_console->console = made;
    record_of_console->number = s.next_object++;
    s.by_number[record_of_console->number] = record_of_console.get();
    s.consoles[record_of_console->number] = record_of_console.get();
    reading->console_number = record_of_console->number;
    console = record_of_console.release()->number;
  } catch (...) {
    api.close(made);
    return errno_code(ENOMEM);
  }
  master = std::move(output.read);
  return {};
}

DUCTILE_INLINE void* console_of(int number) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, number);
  if (r != nullptr && r->what == record::kind::stream && r->console_number >= 0) r = find(s, r->console_number);
  return r != nullptr && r->what == record::kind::console ? r->console : nullptr;
}

DUCTILE_INLINE void attach_to_console(int console, int process) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* c = find(s, console);
  record* p = find(s, process);
  if (c == nullptr || p == nullptr || c->what != record::kind::console) return;
  ++c->attached;
  p->console_number = console;
}

DUCTILE_INLINE void watch(int number, short events, waiter& who, std::uint32_t owner) {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, number);
  if (r == nullptr) {
    who.reports.push_back(sys::readiness{owner, number, events});
    return;
  }
  auto& watches = r->watches;
  watches.erase(
      std::remove_if(watches.begin(), watches.end(),
                     [&](const watch_entry& w) { return w.who == &who && w.owner == owner && w.number == number; }),
      watches.end());
  arm(*r, events);
  if (const short ready = ready_now(*r, events)) {
    who.reports.push_back(sys::readiness{owner, number, ready});
    return;
  }
  watches.push_back(watch_entry{&who, owner, events, number});
}

DUCTILE_INLINE void forget(int number, waiter& who, std::uint32_t owner) noexcept {
  port_state& s = state();
  std::lock_guard<std::mutex> guard(s.lock);
  record* r = find(s, number);
  if (r == nullptr) return;
  auto& watches = r->watches;
  watches.erase(
      std::remove_if(watches.begin(), watches.end(),
                     [&](const watch_entry& w) { return w.who == &who && w.owner == owner && w.number == number; }),
      watches.end());
}

DUCTILE_INLINE void wait(waiter& who, std::chrono::nanoseconds timeout, std::vector<sys::readiness>& out) {
  port_state& s = state();
  const bool forever = timeout.count() < 0;
  const auto deadline = std::chrono::steady_clock::now() + (forever ? std::chrono::nanoseconds(0) : timeout);
  std::unique_lock<std::mutex> guard(s.lock);
  while (who.reports.empty()) {
    DWORD milliseconds = INFINITE;
    if (!forever) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left.count() <= 0) break;
      // Rounded up: a wait that ends early would only wait again.
      milliseconds = static_cast<DWORD>((left.count() + 999'999) / 1'000'000);
    }
    guard.unlock();
    ::WaitForSingleObject(who.wake, milliseconds);
    guard.lock();
  }
  out.insert(out.end(), who.reports.begin(), who.reports.end());
  who.reports.clear();
}

}  // namespace ductile::detail::windows
#endif  // DUCTILE_WINDOWS_BACKEND
