#include "launcher/line_streamer.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "tests/launcher/memory_file.h"

namespace flotilla {
namespace {

using testing::MemoryFile;

TEST(LineStreamer, PrefixesWholeLinesAcrossArbitraryChunks) {
  MemoryFile sink;
  std::vector<std::string> seen;
  LineStreamer streamer(sink.fd(), "[c] ", [&](std::string_view line) { seen.emplace_back(line); });
  streamer.feed("rou");
  EXPECT_EQ(sink.text(), "") << "a partial line must wait for its end";
  streamer.feed("nd 1\nround 2\nlog");
  streamer.feed(" line\n\n");
  EXPECT_EQ(sink.text(), "[c] round 1\n[c] round 2\n[c] log line\n[c] \n");
  EXPECT_EQ(seen, (std::vector<std::string>{"round 1", "round 2", "log line", ""}));
}

TEST(LineStreamer, FinishWritesAnUnterminatedLastLine) {
  MemoryFile sink;
  LineStreamer streamer(sink.fd(), "[x] ");
  streamer.feed("a\nno newline");
  streamer.finish();
  streamer.finish();  // nothing left: no empty line
  EXPECT_EQ(sink.text(), "[x] a\n[x] no newline\n");
}

TEST(LineStreamer, SplitsOverlongLinesInsteadOfBufferingForever) {
  MemoryFile sink;
  std::size_t lines = 0;
  LineStreamer streamer(sink.fd(), "", [&](std::string_view) { ++lines; });
  const std::string chunk(LineStreamer::kMaxLine / 2 + 1, 'x');
  streamer.feed(chunk);
  EXPECT_EQ(lines, 0u);
  streamer.feed(chunk);
  EXPECT_EQ(lines, 1u);
  streamer.finish();
  EXPECT_EQ(lines, 2u);
  EXPECT_EQ(sink.text().size(), 2 * chunk.size() + 2);
}

TEST(LineStreamer, KeepsCallingBackWhenTheOutputIsGone) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  std::signal(SIGPIPE, SIG_IGN);  // as flotilla-run does
  int lines = 0;
  LineStreamer streamer(fds[1], "[c] ", [&](std::string_view) { ++lines; });
  streamer.feed("round 1\nround 2\n");
  EXPECT_EQ(lines, 2);
  ::close(fds[1]);
}

}  // namespace
}  // namespace flotilla
