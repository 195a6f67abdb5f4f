// Helpers for the plugin tests: fixture paths, the loop's inbox whose
// tasks the test runs by hand, and stderr capture (the log goes to fd 2).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loop/inbox.hpp"

namespace daheim::testing {

#ifdef FIXTURE_DIR
inline std::string fixture(const std::string& name) {
  return std::string(FIXTURE_DIR) + "/" + name + ".so";
}
#endif
#ifdef PLUGINS_BUILD_DIR
inline std::string built_plugin(const std::string& rel) {
  return std::string(PLUGINS_BUILD_DIR) + "/" + rel;
}
#endif

// The loop's inbox with no event loop behind it: the test runs the posted
// tasks by hand.
class ManualInbox final : public loop::Inbox {
 public:
  std::size_t run() { return drain(); }
  // Runs posted tasks until `done()` (or 5 s).
  bool run_until(const std::function<bool()>& done) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (run() == 0) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    return true;
  }
};

// Captures what the log writes to stderr while alive.
class StderrCapture {
 public:
  StderrCapture() { ::testing::internal::CaptureStderr(); }
  ~StderrCapture() {
    if (!taken_) ::testing::internal::GetCapturedStderr();
  }
  std::string take() {
    taken_ = true;
    return ::testing::internal::GetCapturedStderr();
  }

 private:
  bool taken_ = false;
};

}  // namespace daheim::testing
