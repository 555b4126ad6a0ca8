// Cuts one child's output stream into lines and writes each line, prefixed ("[coordinator] "),
// to one of the launcher's own descriptors with a single write(), so that lines of different
// children never interleave mid-line however their bytes arrive.
//
// Not thread-safe; the launcher's poll loop owns every streamer.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "launcher/status_line.h"

namespace flotilla {

class LineStreamer {
 public:
  // Called with each complete line, without prefix or newline, after it was written.
  using LineCallback = std::function<void(std::string_view line)>;

  // A line longer than this is written in pieces of this size, so a child that never writes a
  // newline cannot make the launcher buffer without bound.
  static constexpr std::size_t kMaxLine = 64 * 1024;

  // Writes to `out_fd` (not owned). `prefix` is written before every line as is (it may carry
  // terminal colour codes). With `status_line` (not owned), lines go above it.
  LineStreamer(int out_fd, std::string prefix, LineCallback on_line = nullptr, StatusLine* status_line = nullptr);

  // Takes the next bytes of the stream; writes every line they complete.
  void feed(std::string_view data);
  // End of stream: writes a last line that lacked its newline.
  void finish();

 private:
  void emit(std::string_view line);

  int out_fd_;
  std::string prefix_;
  LineCallback on_line_;
  StatusLine* status_line_;
  std::string partial_;
  // Set when out_fd_ is a pipe nobody reads (`flotilla-run | head`): lines are dropped then,
  // while the run itself goes on.
  bool out_closed_ = false;
};

}  // namespace flotilla
