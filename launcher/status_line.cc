#include "launcher/status_line.h"

#include "launcher/write_fully.h"

namespace flotilla {
namespace {

// Back to the line's start and erase it (ECMA-48 EL): what every redraw and erase begins with.
constexpr std::string_view kEraseLine = "\r\x1b[K";

}  // namespace

StatusLine::StatusLine(int fd) : fd_(fd) {}

void StatusLine::show(std::string text) {
  if (shown_ && text == text_) return;
  text_ = std::move(text);
  shown_ = write_fully(fd_, std::string(kEraseLine) + text_);
}

void StatusLine::clear() {
  if (!shown_) return;
  write_fully(fd_, kEraseLine);
  shown_ = false;
}

bool StatusLine::write_above(int fd, std::string_view data) {
  const bool was_shown = shown_;
  clear();
  const bool written = write_fully(fd, data);
  if (was_shown) show(text_);
  return written;
}

}  // namespace flotilla
