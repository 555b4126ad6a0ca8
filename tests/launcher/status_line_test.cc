#include "launcher/status_line.h"

#include <gtest/gtest.h>

#include "launcher/line_streamer.h"
#include "tests/launcher/memory_file.h"

namespace flotilla {
namespace {

using testing::MemoryFile;

constexpr const char* kErase = "\r\x1b[K";

TEST(StatusLine, RedrawsInPlaceOnlyWhenTheTextChanges) {
  MemoryFile terminal("terminal");
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
  MemoryFile terminal("terminal");
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
