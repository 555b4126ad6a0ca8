// The self-pipe trick: SIGINT, SIGTERM, SIGHUP and SIGCHLD become bytes on a pipe that the
// launcher's poll loop watches next to the children's output. The handlers only write(); all
// decisions happen in the loop, where any function may be called. SIGCHLD is there only to wake
// the loop when a child ends.
//
// At most one instance at a time (signal handlers are process-wide). Not thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "core/status.h"

namespace flotilla {

class SignalPipe {
 public:
  static StatusOr<std::unique_ptr<SignalPipe>> install();
  // Restores the previous handlers.
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  // Readable when a signal arrived.
  int fd() const { return read_fd_; }
  // The signals received since the last call, in order of arrival; never blocks.
  std::vector<int> drain();

 private:
  SignalPipe() = default;

  int read_fd_ = -1;
  int write_fd_ = -1;
};

}  // namespace flotilla
