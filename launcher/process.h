// One child process with its stdout and stderr on pipes, in a process group of its own.
//
// Why a group: the launcher stops a child by signalling its whole group, so helpers a child
// started (a shell's `sleep`, say) go too instead of holding the pipes open as orphans, and a
// Ctrl-C at the terminal reaches only the launcher, which then stops the children in order.
// Why PR_SET_PDEATHSIG: if the launcher is killed with SIGKILL, the children get SIGTERM
// instead of training on for a coordinator that nobody watches.
//
// Not thread-safe; one owner polls the pipes and calls try_wait().
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

// How a child ended.
struct ExitStatus {
  bool signaled = false;  // killed by a signal rather than exiting
  int value = 0;          // the exit code, or the signal number when `signaled`

  bool success() const { return !signaled && value == 0; }
  // "exited with status 3", "was killed by SIGKILL".
  std::string to_string() const;
  // The shell's convention: the exit code, or 128 + signal.
  int shell_code() const { return signaled ? 128 + value : value; }
};

class Process {
 public:
  // Starts argv[0] (a path, not searched in PATH) with stdin on /dev/null and stdout/stderr on
  // non-blocking pipes. Fails (with errno's reason) when the program cannot be executed.
  static StatusOr<std::unique_ptr<Process>> start(const std::vector<std::string>& argv);

  // Kills the group with SIGKILL and reaps the child if it is still running: nothing outlives
  // its handle.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Read ends of the child's stdout and stderr; -1 once closed.
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }
  void close_stdout();
  void close_stderr();

  bool running() const { return !exit_status_.has_value(); }
  // The exit status once the child ended; never blocks. On the first call that finds it ended,
  // SIGKILLs what is left of its process group (helpers it left behind) before reaping it:
  // the group id cannot have been reused while the child is an unreaped zombie.
  std::optional<ExitStatus> try_wait();
  // Blocks until the child ends.
  ExitStatus wait();
  // Sends `signal` to the child's whole process group; no-op once it ended.
  void signal_group(int signal);

 private:
  Process() = default;
  void reap(bool block);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::optional<ExitStatus> exit_status_;
};

}  // namespace flotilla
