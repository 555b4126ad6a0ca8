// A small leveled logger: one line per call to stderr, with a process tag ("coordinator",
// "client 3") and a timestamp. Thread-safe (lines are written whole).
#pragma once

#include <sstream>
#include <string>

namespace flotilla {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void set_log_tag(std::string tag);
void set_log_level(LogLevel level);
// Parses "debug|info|warning|error"; returns false for anything else.
bool parse_log_level(const std::string& text, LogLevel* level);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, const std::string& message);

namespace internal {
class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { log_line(level_, stream_.str()); }
  std::ostringstream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};
}  // namespace internal

}  // namespace flotilla

// A `for` rather than an `if`, so that `if (x) FLOTILLA_LOG(Info) << ...; else ...` parses as meant.
#define FLOTILLA_LOG(level)                                                                                   \
  for (bool flotilla_log_once_ = ::flotilla::log_enabled(::flotilla::LogLevel::k##level); flotilla_log_once_; \
       flotilla_log_once_ = false)                                                                            \
  ::flotilla::internal::LogMessage(::flotilla::LogLevel::k##level).stream()
