// A child process for integration tests: started with posix_spawn, output to a log file,
// waited for with a deadline, killed if still running when the handle dies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace flotilla::testing {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Exit code (128 + signal when killed by one), or -1 if it did not end within `timeout`.
  int wait_for(std::chrono::milliseconds timeout);
  bool running();
  void kill_now();
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string log_path_;
};

std::string read_file(const std::string& path);

// How a command-line tool run by a test ended.
struct ToolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Waits until `path` exists and is non-empty; false on timeout.
bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout);
std::string make_temp_dir(const std::string& prefix);

}  // namespace flotilla::testing
