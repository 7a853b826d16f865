#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "doctest.hpp"

#ifndef _WIN32
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace {

// Names a test case that has run for four minutes: meson ends a suite at
// five, and what it prints then (the signal, a sanitizer's complaint about
// the handler) does not say where the suite was. Not under Wine, where a
// thread still sleeping when main returns may keep the process alive.
struct watchdog_state {
  std::mutex mutex;
  std::string running;
  std::chrono::steady_clock::time_point since;
  bool told = false;
};

watchdog_state& watchdog() {
  static watchdog_state* const state = new watchdog_state();  // the thread outlives static destructors
  return *state;
}

void watch() {
  constexpr auto limit = std::chrono::minutes(4);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    watchdog_state& state = watchdog();
    std::lock_guard<std::mutex> lock(state.mutex);
    if (state.running.empty() || state.told || std::chrono::steady_clock::now() - state.since < limit) continue;
    state.told = true;
    std::fprintf(stderr, "[watchdog] still running after 4 minutes: TEST CASE: %s\n", state.running.c_str());
    std::fflush(stderr);
  }
}

struct watchdog_listener : doctest::IReporter {
  explicit watchdog_listener(const doctest::ContextOptions&) {
    static const bool started = [] {
      // Made with every signal blocked, which it keeps: a signal a test
      // sends its own process must reach the test's threads.
      sigset_t all, previous;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &previous);
      try {
        std::thread(watch).detach();
      } catch (const std::system_error&) {
        // No thread to be had: the suite runs unwatched.
      }
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      return true;
    }();
    (void)started;
  }
  void test_case_start(const doctest::TestCaseData& data) override {
    watchdog_state& state = watchdog();
    std::lock_guard<std::mutex> lock(state.mutex);
    state.running = data.m_name;
    state.since = std::chrono::steady_clock::now();
    state.told = false;
  }
  void test_case_end(const doctest::CurrentTestCaseStats&) override {
    watchdog_state& state = watchdog();
    std::lock_guard<std::mutex> lock(state.mutex);
    state.running.clear();
  }
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("watchdog", 1, watchdog_listener);
#endif
