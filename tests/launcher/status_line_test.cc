#include "launcher/status_line.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "launcher/line_streamer.h"

namespace flotilla {
namespace {

// An in-memory file standing in for the terminal.
class Sink {
 public:
  Sink() : fd_(::memfd_create("terminal", MFD_CLOEXEC)) {}
  ~Sink() { ::close(fd_); }
  int fd() const { return fd_; }
  std::string text() const {
    std::string out;
    char buffer[4096];
    ssize_t n;
    off_t offset = 0;
    while ((n = ::pread(fd_, buffer, sizeof buffer, offset)) > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
      offset += n;
    }
    return out;
  }

 private:
  int fd_;
};

constexpr const char* kErase = "\r\x1b[K";

TEST(StatusLine, RedrawsInPlaceOnlyWhenTheTextChanges) {
  Sink terminal;
  StatusLine line(terminal.fd());
  line.show("round 1/3");
  line.show("round 1/3");
  line.show("round 2/3");
  EXPECT_EQ(terminal.text(), std::string(kErase) + "round 1/3" + kErase + "round 2/3");
  line.clear();
  line.clear();
  EXPECT_EQ(terminal.text(), std::string(kErase) + "round 1/3" + kErase + "round 2/3" + kErase);
}

TEST(StatusLine, OutputGoesAboveTheLine) {
  Sink terminal;
  StatusLine line(terminal.fd());
  LineStreamer streamer(terminal.fd(), "[coordinator] ", nullptr, &line);
  streamer.feed("before any line\n");
  line.show("round 1/3");
  streamer.feed("round 1/3 acc 0.9\n");
  EXPECT_EQ(terminal.text(), std::string("[coordinator] before any line\n") + kErase + "round 1/3" + kErase +
                                 "[coordinator] round 1/3 acc 0.9\n" + kErase + "round 1/3");
}

}  // namespace
}  // namespace flotilla
