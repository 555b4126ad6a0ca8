// StatusLine: one line at the bottom of a terminal, redrawn in place ("\r", the text, erase to
// the end of the line), with whatever else goes to the terminal written above it: the line is
// erased, the output written, the line drawn again. flotilla-run uses one only when its stdout is
// a terminal; piped output never sees a "\r".
//
// Not thread-safe; the launcher's poll loop owns it (and every LineStreamer writing above it).
#pragma once

#include <string>
#include <string_view>

namespace flotilla {

class StatusLine {
 public:
  explicit StatusLine(int fd);  // the terminal (not owned)

  // Draws `text` (one line, no newline), unless it is what the line shows already.
  void show(std::string text);
  // Erases the line; the next show() draws it again.
  void clear();
  // Writes `data` (whole lines) to `fd` (this terminal's, or another descriptor on it, like
  // stderr) above the line. False when `fd` is gone (EPIPE).
  bool write_above(int fd, std::string_view data);

 private:
  int fd_;
  std::string text_;
  bool shown_ = false;
};

}  // namespace flotilla
