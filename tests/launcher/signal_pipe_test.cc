#include "launcher/signal_pipe.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <csignal>

namespace flotilla {
namespace {

TEST(SignalPipe, TurnsSignalsIntoReadableBytesAndRestoresHandlers) {
  {
    auto pipe = SignalPipe::install();
    ASSERT_TRUE(pipe.ok()) << pipe.status();
    EXPECT_FALSE(SignalPipe::install().ok()) << "handlers are process-wide: one at a time";
    EXPECT_TRUE((*pipe)->drain().empty());
    std::raise(SIGTERM);
    std::raise(SIGHUP);
    pollfd p{(*pipe)->fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    EXPECT_EQ((*pipe)->drain(), (std::vector<int>{SIGTERM, SIGHUP}));
    EXPECT_TRUE((*pipe)->drain().empty());
  }
  struct sigaction now {};
  ::sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
  EXPECT_TRUE(SignalPipe::install().ok()) << "a new one may be installed after the first is gone";
}

}  // namespace
}  // namespace flotilla
