#pragma once
/// \file
/// The exceptions ductile throws. Every message names the command and the cause.

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "output.hpp"

namespace ductile {

/// Base of every ductile error; `command()` is the expression as `sh` would show it.
class error : public std::runtime_error {
 public:
  error(const std::string& message, std::string command);
  const std::string& command() const noexcept { return command_; }

 private:
  std::string command_;
};

/// A process could not be started: nothing of the failing process ran.
/// `step()` names what failed ("exec", "chdir", "open stdout", ...).
class spawn_error : public error {
 public:
  spawn_error(const std::string& message, std::string command, std::string step, std::error_code code);
  std::error_code code() const noexcept { return code_; }
  const std::string& step() const noexcept { return step_; }

 private:
  std::string step_;
  std::error_code code_;
};

/// A checked process exited non-zero or died of a signal. Carries every captured byte.
class status_error : public error {
 public:
  status_error(const std::string& message, std::string command, ductile::output result);
  const ductile::output& output() const noexcept { return *output_; }

 private:
  std::shared_ptr<const ductile::output> output_;
};

/// A `timeout()` fired and the subtree was terminated.
class timeout_error : public status_error {
 public:
  using status_error::status_error;
};

/// A job its pool ended or cancelled (a stop after another job failed, a queued
/// job killed before its turn): never a job that died of a signal on its own.
class cancelled_error : public status_error {
 public:
  using status_error::status_error;
};

/// An interrupt_guard's signal reached the process while the run was going:
/// its children got the signal too and were reaped. `128 + signal()` is the
/// exit status a shell would give.
class interrupted_error : public error {
 public:
  interrupted_error(const std::string& message, std::string command, int signal);
  int signal() const noexcept { return signal_; }

 private:
  int signal_;
};

/// A `cmdline()` text could not be parsed; `position()` is the byte offset of the problem.
class parse_error : public error {
 public:
  parse_error(const std::string& message, std::string text, std::size_t position);
  std::size_t position() const noexcept { return position_; }

 private:
  std::size_t position_;
};

}  // namespace ductile
