#pragma once
// The asynchronous operations, written once for both Asio flavours: the
// flavour header (<ductile/asio.hpp> or <ductile/boost_asio.hpp>) defines
// detail::async_io::net and its error types before including this file.
//
// Every operation waits on a descriptor through the executor's reactor (the
// handle's completion_fd(), or the pipe a reader reads) and then calls the
// blocking function that no longer blocks. On Windows it waits on an event
// instead, with an object_handle: the handle's completion_handle(), or the
// event set while the reader's pipe has bytes. The processes are driven by
// ductile's background thread as always; no thread is made per operation.

#include <signal.h>
#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace ductile {
namespace detail::async_io {

// What a cancelled operation completes with.
inline std::exception_ptr operation_aborted() {
  return std::make_exception_ptr(system_error(net::error::operation_aborted));
}

#ifdef _WIN32
using watched = net::windows::object_handle;
using watched_native = native_handle_type;
#else
using watched = net::posix::stream_descriptor;
using watched_native = int;
#endif

// The executor whose reactor watches the descriptors: the one the caller
// gave, else the completion handler's if it can do I/O (an io_context's, a
// coroutine's), else the system executor's threads (a future's).
template <class Self>
net::any_io_executor reactor_of(const std::optional<net::any_io_executor>& given, Self& self) {
  if (given) return *given;
  if constexpr (std::is_constructible_v<watched, decltype(self.get_executor()), watched_native>)
    return self.get_executor();
  else
    return net::system_executor();
}

// A duplicate of `native` registered with the reactor: the original stays
// with its owner, who may close it.
inline std::unique_ptr<watched> watch(const net::any_io_executor& executor, watched_native native) {
#ifdef _WIN32
  HANDLE copy = nullptr;
  if (native == nullptr ||
      !::DuplicateHandle(::GetCurrentProcess(), native, ::GetCurrentProcess(), &copy, 0, FALSE, DUPLICATE_SAME_ACCESS))
    throw system_error(error_code(static_cast<int>(::GetLastError()), net::error::get_system_category()),
                       "ductile: DuplicateHandle");
  try {
    return std::make_unique<watched>(executor, copy);
  } catch (...) {
    ::CloseHandle(copy);
    throw;
  }
#else
  const int copy = ::fcntl(native, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw system_error(error_code(errno, net::error::get_system_category()), "ductile: dup");
  try {
    return std::make_unique<watched>(executor, copy);
  } catch (...) {
    ::close(copy);
    throw;
  }
#endif
}

// Waits until what `w` watches is ready (readable; an event: set).
template <class Self>
void wait_on(watched& w, Self&& self) {
#ifdef _WIN32
#if DUCTILE_ASYNC_CANCELLATION
  // Asio's object_handle takes no per-operation cancellation: a cancellation
  // cancels the wait by hand, which then completes with operation_aborted.
  auto slot = self.get_cancellation_state().slot();
  if (slot.is_connected()) slot.assign([&w](net::cancellation_type) { w.cancel(); });
#endif
  w.async_wait(std::forward<Self>(self));
#else
  w.async_wait(net::posix::descriptor_base::wait_read, std::forward<Self>(self));
#endif
}

// Forgets the cancellation handler a wait installed, before what it names goes.
template <class Self>
void stop_watching_cancellation([[maybe_unused]] Self& self) {
#if defined(_WIN32) && DUCTILE_ASYNC_CANCELLATION
  auto slot = self.get_cancellation_state().slot();
  if (slot.is_connected()) slot.clear();
#endif
}

// What tells that a run has finished, and that a reader has output (or,
// after its end, that its run has finished).
inline watched_native completion_of(handle& h) {
#ifdef _WIN32
  return h.completion_handle();
#else
  return h.completion_fd();
#endif
}
inline watched_native output_of(reader_handle& r) {
#ifdef _WIN32
  const native_handle_type output = reader_output_event(r);
  return output != nullptr ? output : r.completion_handle();
#else
  const int output_fd = reader_output_fd(r);
  return output_fd >= 0 ? output_fd : r.completion_fd();
#endif
}

// read()'s text: stdout without its trailing newlines.
inline std::string without_trailing_newlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// Lets a cancellation of any kind reach the wait on the descriptor.
template <class Self>
void accept_cancellation([[maybe_unused]] Self& self) {
#if DUCTILE_ASYNC_CANCELLATION
  self.reset_cancellation_state(net::enable_total_cancellation());
#endif
}

// The signal a cancellation of a run the operation owns sends, or 0 to kill
// it: partial cancellation SIGTERM, total SIGINT, terminal (or an Asio
// without per-operation cancellation) none.
template <class Self>
int cancellation_signal_of([[maybe_unused]] Self& self) {
#if DUCTILE_ASYNC_CANCELLATION
  const auto how = self.get_cancellation_state().cancelled();
  if ((how & net::cancellation_type::terminal) != net::cancellation_type::none) return 0;
  if ((how & net::cancellation_type::partial) != net::cancellation_type::none) return SIGTERM;
#ifdef _WIN32
  // A console event reaches only a child in a console process group of its
  // own: total cancellation ends the job as partial does.
  if ((how & net::cancellation_type::total) != net::cancellation_type::none) return SIGTERM;
#else
  if ((how & net::cancellation_type::total) != net::cancellation_type::none) return SIGINT;
#endif
#endif
  return 0;
}

// An operation's first step, when it has its result at once: posted, so that
// an operation never completes inside the call that started it. False once started.
template <class Self>
bool start_posted(bool& started, Self& self) {
  if (started) return false;
  started = true;
  accept_cancellation(self);
  net::post(self.get_executor(), std::move(self));
  return true;
}

// Waits for a handle's completion_fd(), then takes its output. `Result` turns
// the output into what the operation completes with.
template <class Result>
struct wait_operation {
  handle* target;
  std::optional<net::any_io_executor> executor;
  std::unique_ptr<handle> owned;  // async_run/async_read start their own
  std::exception_ptr start_failure;
  std::unique_ptr<watched> finished;
  bool started = false;

  template <class Self>
  void operator()(Self& self, error_code error = {}) {
    stop_watching_cancellation(self);
    const bool first = !started;
    if (first) {
      started = true;
      accept_cancellation(self);
    }
    if (error == net::error::operation_aborted) {
      finished.reset();
      // The caller's own handle: cancelling the wait only stops waiting.
      if (!owned) return self.complete(operation_aborted(), typename Result::type{});
      // A run of the operation's own, as Boost.Process v2 maps it: partial
      // cancellation asks it to end (SIGTERM), total interrupts it (SIGINT),
      // and the operation completes when it has, with its real status;
      // terminal cancellation kills it.
      if (const int signal = cancellation_signal_of(self)) {
        target->send_signal(signal);
        try {
          finished = watch(reactor_of(executor, self), completion_of(*target));
          return wait_on(*finished, std::move(self));
        } catch (...) {
          start_failure = std::current_exception();  // then killed below, like a terminal cancellation
        }
      }
      target->kill();  // then reaped: nothing is left running
      owned.reset();
      return self.complete(operation_aborted(), typename Result::type{});
    }
    if (finished == nullptr && !start_failure) {
      try {
        // A failure of a finished run is taken below, from wait().
        bool running = false;
        try {
          running = target->try_wait() == nullptr;
        } catch (...) {
        }
        if (running) {
          finished = watch(reactor_of(executor, self), completion_of(*target));
          return wait_on(*finished, std::move(self));
        }
      } catch (...) {
        start_failure = std::current_exception();
      }
    }
    // Never complete inside the call that started the operation.
    if (first) return net::post(self.get_executor(), std::move(self));
    if (start_failure) return self.complete(std::move(start_failure), typename Result::type{});
    finished.reset();
    std::exception_ptr failure;
    typename Result::type result{};
    try {
      result = Result::of(target->wait());
    } catch (...) {
      failure = std::current_exception();
    }
    // The run's descriptors go before the caller hears of it, not when Asio
    // frees the operation later.
    owned.reset();
    self.complete(std::move(failure), std::move(result));
  }
};

struct whole_output {
  using type = output;
  static output of(const output& o) { return o; }
};
struct stdout_text {
  using type = std::string;
  static std::string of(const output& o) { return without_trailing_newlines(o.stdout_bytes); }
};

template <class Result>
wait_operation<Result> starting(const net::any_io_executor& executor, const expression& e) {
  wait_operation<Result> operation{nullptr, executor, nullptr, nullptr, nullptr};
  try {
    operation.owned = std::make_unique<handle>(e.start());
    operation.target = operation.owned.get();
  } catch (...) {
    operation.start_failure = std::current_exception();
  }
  return operation;
}

// Reads a line as soon as one is there, waiting on the reader's pipe (and,
// after its end, on the run's completion) in between.
struct line_operation {
  reader_handle* reader;
  std::unique_ptr<watched> ready;
  bool started = false;

  template <class Self>
  void operator()(Self& self, error_code error = {}) {
    stop_watching_cancellation(self);
    if (start_posted(started, self)) return;
    if (error == net::error::operation_aborted) {
      ready.reset();
      // The caller's own reader: cancelling the wait only stops waiting.
      return self.complete(operation_aborted(), std::nullopt);
    }
    ready.reset();
    try {
      std::string line;
      const std::optional<bool> got = reader->read_line_for(line, std::chrono::nanoseconds(0));
      if (got) return self.complete(nullptr, *got ? std::optional<std::string>(std::move(line)) : std::nullopt);
      ready = watch(reactor_of(std::nullopt, self), output_of(*reader));
    } catch (...) {
      return self.complete(std::current_exception(), std::nullopt);
    }
    wait_on(*ready, std::move(self));
  }
};

}  // namespace detail::async_io

/// Runs `e` as run() does and completes with (exception, output): the
/// exception is empty on success, else what run() would have thrown.
/// Terminal cancellation kills and reaps the run and completes with
/// operation_aborted; partial cancellation sends SIGTERM and total SIGINT,
/// and the operation then completes when the run has ended, with its status.
template <class Executor, class Token>
auto async_run(Executor executor, const expression& e, Token&& token) {
  using namespace detail::async_io;
  return net::async_compose<Token, void(std::exception_ptr, output)>(starting<whole_output>(executor, e), token,
                                                                     executor);
}

/// Runs `e` as read() does and completes with (exception, stdout without its
/// trailing newlines). Cancellation as for async_run.
template <class Executor, class Token>
auto async_read(Executor executor, const expression& e, Token&& token) {
  using namespace detail::async_io;
  return net::async_compose<Token, void(std::exception_ptr, std::string)>(
      starting<stdout_text>(executor, e.stdout_capture()), token, executor);
}

/// Completes with (exception, output) when `h` has finished. `h` must outlive
/// the operation. Runs on the completion handler's associated executor.
/// Cancelling it only stops the wait: `h` and its processes are the caller's.
template <class Token>
auto async_wait(handle& h, Token&& token) {
  using namespace detail::async_io;
  return net::async_compose<Token, void(std::exception_ptr, output)>(
      wait_operation<whole_output>{&h, std::nullopt, nullptr, nullptr, nullptr}, token);
}

/// Completes with (exception, the next stdout line without its newline), or
/// an empty line at the end of the output; a checked failure arrives as the
/// exception, once, at the end. `r` must outlive the operation. Cancelling it
/// only stops the wait: `r` and its processes are the caller's.
template <class Token>
auto async_read_line(reader_handle& r, Token&& token) {
  using namespace detail::async_io;
  return net::async_compose<Token, void(std::exception_ptr, std::optional<std::string>)>(line_operation{&r, nullptr},
                                                                                         token);
}

}  // namespace ductile
