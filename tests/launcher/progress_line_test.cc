// flotilla-run on a terminal: it asks the coordinator for a live view, polls it and draws one
// progress line, redrawn in place, under the children's output. The coordinator is a fake script
// that points the launcher at a stand-in live view served by this test; the terminal is a
// pseudo-terminal.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "tests/launcher/launcher_harness.h"
#include "tests/support/text.h"

namespace flotilla::testing {
namespace {

using test_text::contains;

using namespace std::chrono_literals;

// Runs flotilla-run with `args` on a new pseudo-terminal; returns everything it wrote there and
// its exit status (-1 when it had to be killed after `timeout`).
std::pair<std::string, int> run_on_terminal(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    ::setenv("TERM", "xterm", 1);
    ::setenv("NO_COLOR", "1", 1);  // prefixes without colour codes, to compare lines simply
    std::vector<std::string> argv = {std::string(FLOTILLA_BIN_DIR) + "/flotilla-run"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  EXPECT_GT(pid, 0);
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n <= 0) break;  // EIO once the last process on the terminal closed it
    out.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST(ProgressLine, OnATerminalFlotillaRunDrawsTheLiveViewsProgress) {
  // The live view the fake coordinator points to.
  httplib::Server view;
  view.Get("/api/state", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"run": {"status": "training", "rounds": 3}, "round": {"number": 2, "sampled": 2, "done": 1},
                        "counts": {"clients": 2, "alive": 2}, "estimate": {"left_seconds": 5}})",
                    "application/json");
  });
  const int port = view.bind_to_any_port("127.0.0.1");
  std::thread server([&] { view.listen_after_bind(); });

  TempDir dir;
  // The coordinator writes the URL where it was told to, then its endpoint, runs for two seconds
  // (a few of the launcher's polls) and finishes; the client leaves when it has.
  write_script(dir.file("flotilla-coordinator"),
               "dir='" + dir.path() + "'\necho \"args: $*\" > \"$dir/coordinator.args\"\n" +
                   "ep=; url=; prev=\n"
                   "for a in \"$@\"; do [ \"$prev\" = --endpoint-file ] && ep=$a; "
                   "[ \"$prev\" = --live-view-url-file ] && url=$a; prev=$a; done\n"
                   "printf 'http://127.0.0.1:" +
                   std::to_string(port) +
                   "/\\n' > \"$url.tmp\" && mv \"$url.tmp\" \"$url\"\n"
                   "printf 'tcp://127.0.0.1:5999\\n' > \"$ep.tmp\" && mv \"$ep.tmp\" \"$ep\"\n"
                   "sleep 2\necho 'round 1/1 acc 0.5'\ntouch \"$dir/finished\"\n");
  write_script(dir.file("flotilla-client"), "while [ ! -e '" + dir.path() + "/finished' ]; do sleep 0.05; done\n");
  const auto [out, code] = run_on_terminal({"--bin-dir", dir.path(), "--clients", "2", "--no-encryption"}, 60s);
  view.stop();
  server.join();

  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(contains(read_text(dir.file("coordinator.args")), "--live-view 127.0.0.1:0 --live-view-url-file "))
      << read_text(dir.file("coordinator.args"));
  EXPECT_TRUE(contains(out, "\r\x1b[Kround 2/3  clients 1/2 done  elapsed ")) << out;
  EXPECT_TRUE(contains(out, "  left ~5.0s")) << out;
  // The coordinator's line went above the progress line (erased first), on a line of its own.
  EXPECT_TRUE(contains(out, "\r\x1b[K[coordinator] round 1/1 acc 0.5\r\n")) << out;
  EXPECT_TRUE(contains(out, "summary: 1 round")) << out;
}

TEST(ProgressLine, NoProgressKeepsTheTerminalToPlainLines) {
  TempDir dir;
  write_script(dir.file("flotilla-coordinator"),
               "echo \"args: $*\" > '" + dir.path() +
                   "/coordinator.args'\n"
                   "ep=; prev=\nfor a in \"$@\"; do [ \"$prev\" = --endpoint-file ] && ep=$a; prev=$a; done\n"
                   "printf 'tcp://127.0.0.1:5999\\n' > \"$ep.tmp\" && mv \"$ep.tmp\" \"$ep\"\necho 'round 1/1'\n");
  write_script(dir.file("flotilla-client"), "exit 0\n");
  const auto [out, code] =
      run_on_terminal({"--bin-dir", dir.path(), "--clients", "1", "--no-encryption", "--no-progress"}, 60s);
  EXPECT_EQ(code, 0) << out;
  EXPECT_FALSE(contains(out, "\x1b[K")) << out;
  EXPECT_FALSE(contains(read_text(dir.file("coordinator.args")), "--live-view")) << "no live view asked for";
}

}  // namespace
}  // namespace flotilla::testing
