#include "launcher/status_line.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace flotilla {
namespace {

// Back to the line's start and erase it (ECMA-48 EL): what every redraw and erase begins with.
constexpr std::string_view kEraseLine = "\r\x1b[K";

bool write_to_terminal(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 1000);
    } else if (errno != EINTR) {
      return false;
    }
  }
  return true;
}

}  // namespace

StatusLine::StatusLine(int fd) : fd_(fd) {}

void StatusLine::show(std::string text) {
  if (shown_ && text == text_) return;
  text_ = std::move(text);
  shown_ = write_to_terminal(fd_, std::string(kEraseLine) + text_);
}

void StatusLine::clear() {
  if (!shown_) return;
  write_to_terminal(fd_, kEraseLine);
  shown_ = false;
}

bool StatusLine::write_above(int fd, std::string_view data) {
  const bool was_shown = shown_;
  clear();
  const bool written = write_to_terminal(fd, data);
  if (was_shown) show(text_);
  return written;
}

}  // namespace flotilla
