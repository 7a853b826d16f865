#pragma once
// The process's one I/O completion port, and the readiness the run layer
// waits for, made from its completions.
//
// The run layer thinks in readiness ("this stream has bytes", "this child
// has ended"); Windows reports completions. The bridge is libuv's: the
// parent's end of every pipe it reads is overlapped, and a read of zero
// bytes is kept in flight on it; its completion means bytes are there, and
// the read that follows takes them at once. A write copies its bytes into
// the stream's own buffer and is in flight until the port says it is done;
// until then the stream is not writable. A child's exit arrives as a packet
// the system's wait posts to the same port. One thread dequeues every
// packet and wakes whoever watches what changed: the background thread's
// readiness set or a caller's own wait. No thread per stream or per child.
//
// Streams, events and processes are named by number, as descriptors are
// elsewhere: a stream by its C runtime descriptor, events and processes by
// numbers above any descriptor (object_numbers). unique_fd closes either.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include "os/descriptor.hpp"
#include "os/readiness.hpp"
#include "os/windows/win32.hpp"

namespace ductile::detail::windows {

// Someone who waits: what became ready is appended to `reports` (under the
// port's lock) and `wake` is set.
struct waiter {
  HANDLE wake = nullptr;  // an auto-reset event
  std::vector<sys::readiness> reports;
  waiter();
  ~waiter();
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;
};

// A pipe whose parent end is overlapped and served by the port; the child's
// end is an ordinary one, as a child expects. `parent_reads`: the parent
// keeps the read end.
std::error_code make_parent_pipe(pipe_ends& ends, bool parent_reads) noexcept;
// Whether `number` is a stream, event or process the port serves.
bool serves(int number) noexcept;
// A read or write on a stream the port serves, made at once: EAGAIN when it
// would wait. A read of 0 bytes is the end of the stream.
std::error_code read_stream(int fd, char* data, std::size_t size, std::size_t& done) noexcept;
std::error_code write_stream(int fd, const char* data, std::size_t size, std::size_t& done) noexcept;

// Makes reads and writes on `fd` say EAGAIN where they would wait.
void set_nonblocking(int fd) noexcept;

// Events another thread signals.
std::error_code make_event(bool signalled, int& number) noexcept;
void set_event(int number, bool signalled) noexcept;
// A manual-reset Win32 event that is set while the event `number` is, or
// while the stream `number` can be read without waiting (bytes or its end):
// what a wait outside the library (WaitForSingleObject, Asio's
// object_handle) can wait on. Made on first use; closed with the number.
HANDLE native_event(int number) noexcept;

// A started child (suspended or not) and the job that holds its tree; the
// port reports its end. Takes both handles.
int adopt_process(HANDLE process, HANDLE job, DWORD pid) noexcept;
// A job alone (an own_cgroup() subtree's), inside the job `outer` (-1: none).
int adopt_job(HANDLE job, int outer) noexcept;
int outer_job_of(int number) noexcept;
HANDLE process_of(int number) noexcept;
HANDLE job_of(int number) noexcept;

// `another` (a new C runtime descriptor of the same stream) names what
// `number` names too; false if the port does not serve `number`.
bool alias(int number, int another) noexcept;

// A pseudo console of `rows` x `cols`: `master` reads what its programs
// write and writes what they read; `console` names it for the programs
// started in it (attach_to_console). It closes once its number is released
// and every program attached has ended, and the master then ends.
std::error_code open_console(short rows, short cols, unique_fd& master, int& console) noexcept;
void* console_of(int number) noexcept;  // a console's HPCON, or a master's console's

// Pseudo consoles came with Windows 10 1809: looked up when first needed,
// so that the library still starts on a system without them.
struct console_functions {
  HRESULT(WINAPI* create)(COORD, HANDLE, HANDLE, DWORD, void**) = nullptr;
  HRESULT(WINAPI* resize)(void*, COORD) = nullptr;
  void(WINAPI* close)(void*) = nullptr;
};
const console_functions& pseudo_consoles() noexcept;
// The attribute that starts a program in a pseudo console.
inline constexpr DWORD_PTR pseudo_console_attribute = 0x00020016;  // PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE
void attach_to_console(int console, int process) noexcept;

// Closes what `number` names: a stream's own handle (once a write in flight
// is done), an event, a process and its job.
void release(int number) noexcept;

// Watches `number` for `events` (os::ready_to_read, os::ready_to_write) for
// `owner` of `who`, once: reported at once if it is ready already. A number
// the port does not serve (a file, a console) is always ready.
void watch(int number, short events, waiter& who, std::uint32_t owner);
void forget(int number, waiter& who, std::uint32_t owner) noexcept;
// Waits until something is reported to `who` or `timeout` passes (negative:
// forever), then moves the reports into `out`.
void wait(waiter& who, std::chrono::nanoseconds timeout, std::vector<sys::readiness>& out);

}  // namespace ductile::detail::windows
