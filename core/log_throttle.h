// LogThrottle: lets through at most `burst` log lines per `period` for one kind of event and
// counts the rest, so that a flood of bad input cannot flood the log (or the disk) too, while
// nothing goes unreported: the next line that passes says how many were suppressed.
// Not thread-safe: one per thread or per owner.
#pragma once

#include <chrono>
#include <cstdint>

namespace flotilla {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogThrottle(int burst = 5, Clock::duration period = std::chrono::seconds(1))
      : burst_(burst), period_(period) {}

  // True when this event may be logged; then `*suppressed` (if given) is how many were
  // swallowed since the last line that passed, and the count restarts.
  bool allow(int64_t* suppressed = nullptr, Clock::time_point now = Clock::now()) {
    if (now - window_start_ >= period_) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= burst_) {
      ++suppressed_;
      return false;
    }
    ++in_window_;
    if (suppressed) *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  int burst_;
  Clock::duration period_;
  Clock::time_point window_start_{};
  int in_window_ = 0;
  int64_t suppressed_ = 0;
};

}  // namespace flotilla
