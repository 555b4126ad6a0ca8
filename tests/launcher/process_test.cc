#include "launcher/process.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>

#include "tests/launcher/launcher_harness.h"

namespace flotilla {
namespace {

// Reads one pipe of `p` to its end (bounded by the test's own timeout).
std::string read_all(Process& p, bool is_stdout) {
  std::string out;
  for (;;) {
    const int fd = is_stdout ? p.stdout_fd() : p.stderr_fd();
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 10000) <= 0) return out + "<timeout>";
    char buffer[1024];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      is_stdout ? p.close_stdout() : p.close_stderr();
      return out;
    }
  }
}

TEST(Process, SeparatesStdoutAndStderrAndReportsTheExitCode) {
  auto p = Process::start({"/bin/sh", "-c", "echo out; echo err >&2; read x; echo \"stdin:$x\"; exit 3"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(read_all(**p, true), "out\nstdin:\n");  // stdin is /dev/null
  EXPECT_EQ(read_all(**p, false), "err\n");
  const ExitStatus status = (*p)->wait();
  EXPECT_FALSE(status.success());
  EXPECT_EQ(status.shell_code(), 3);
  EXPECT_EQ(status.to_string(), "exited with status 3");
  EXPECT_FALSE((*p)->running());
}

TEST(Process, TryWaitDoesNotBlockAndSignalReachesTheGroup) {
  testing::TempDir dir;
  const std::string pid_file = dir.file("helper.pid");
  // The shell starts a helper in the background: signalling the group must end both.
  auto p = Process::start({"/bin/sh", "-c", "sleep 60 & echo $! > " + pid_file + "; wait"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE((*p)->try_wait().has_value());
  ASSERT_TRUE(testing::wait_until([&] { return testing::read_pid(pid_file) > 0; }, std::chrono::seconds(20)));
  (*p)->signal_group(SIGTERM);
  const ExitStatus status = (*p)->wait();
  EXPECT_TRUE(status.signaled);
  EXPECT_EQ(status.to_string(), "was killed by SIGTERM");
  EXPECT_EQ(status.shell_code(), 128 + SIGTERM);
  EXPECT_TRUE(testing::wait_until([&] { return testing::process_gone(testing::read_pid(pid_file)); },
                                  std::chrono::seconds(20)));
}

TEST(Process, HelpersLeftBehindByAnExitedChildAreCleanedUp) {
  testing::TempDir dir;
  const std::string pid_file = dir.file("helper.pid");
  // The helper's output goes elsewhere, so it does not hold our pipes; the group still holds it.
  auto p = Process::start({"/bin/sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $! > " + pid_file + "; exit 0"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE((*p)->wait().success());
  const pid_t helper = testing::read_pid(pid_file);
  ASSERT_GT(helper, 0);
  // The helper is reparented to init (or a subreaper) which reaps it; allow for that.
  EXPECT_TRUE(testing::wait_until([&] { return testing::process_gone(helper); }, std::chrono::seconds(20)));
}

TEST(Process, UnexecutableProgramIsAnError) {
  auto p = Process::start({"/nonexistent/flotilla-coordinator"});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("No such file"), std::string::npos) << p.status();
}

TEST(Process, DestructorKillsARunningChild) {
  pid_t pid;
  {
    auto p = Process::start({"/bin/sh", "-c", "exec sleep 60"});
    ASSERT_TRUE(p.ok()) << p.status();
    pid = (*p)->pid();
  }
  EXPECT_TRUE(testing::process_gone(pid));
}

}  // namespace
}  // namespace flotilla
