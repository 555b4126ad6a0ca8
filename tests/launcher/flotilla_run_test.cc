// flotilla-run end to end, against fake flotilla-coordinator and flotilla-client shell scripts
// that record their arguments and pids in a temp folder. Every wait is bounded; no test sleeps
// longer than the behaviour it checks needs.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <csignal>
#include <fstream>
#include <string>
#include <vector>

#include "tests/launcher/launcher_harness.h"
#include "tests/support/text.h"

namespace flotilla::testing {
namespace {

using test_text::contains;

using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous: CI runs on two slow cores; a passing run takes a fraction of this.
constexpr milliseconds kRunTimeout = seconds(60);

// A folder with fake binaries. Both scripts start with $dir set to that folder, print their
// arguments ("args: ...") and write their pid ($$, which `exec sleep` keeps) to
// $dir/coordinator.pid or $dir/client.<ids>.pid; clients also touch $dir/started.<ids>.
// `coordinator_body` runs with $ep set to the endpoint file, `client_body` with $ids set to
// the --client-ids value.
class Fakes {
 public:
  Fakes(const std::string& coordinator_body, const std::string& client_body) {
    const std::string header = "dir='" + dir_.path() + "'\necho \"args: $*\"\n";
    write_script(dir_.file("flotilla-coordinator"),
                 header +
                     "ep=; prev=\n"
                     "for a in \"$@\"; do [ \"$prev\" = --endpoint-file ] && ep=$a; prev=$a; done\n"
                     "echo $$ > \"$dir/coordinator.pid\"\n" +
                     coordinator_body);
    write_script(dir_.file("flotilla-client"),
                 header +
                     "ids=; prev=\n"
                     "for a in \"$@\"; do [ \"$prev\" = --client-ids ] && ids=$a; prev=$a; done\n"
                     "echo $$ > \"$dir/client.$ids.pid\"\n"
                     "touch \"$dir/started.$ids\"\n" +
                     client_body);
  }

  const std::string& dir() const { return dir_.path(); }
  std::string file(const std::string& name) const { return dir_.file(name); }
  pid_t coordinator_pid() const { return read_pid(file("coordinator.pid")); }
  pid_t client_pid(const std::string& ids) const { return read_pid(file("client." + ids + ".pid")); }
  int clients_started() const { return count_files_with_prefix(dir(), "started."); }

 private:
  TempDir dir_;
};

// Writes the endpoint the way the real coordinator does: to a temporary name, then renamed.
const std::string kWriteEndpoint = "printf 'tcp://127.0.0.1:5999\\n' > \"$ep.tmp\" && mv \"$ep.tmp\" \"$ep\"\n";

// Bounded shell wait: `until_` is a shell condition, polled every 50 ms for at most 20 s.
std::string wait_in_shell(const std::string& until_) {
  return "i=0; until " + until_ + " || [ $i -ge 400 ]; do sleep 0.05; i=$((i+1)); done\n";
}

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    if (text.compare(begin, prefix.size(), prefix) == 0) lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

TEST(FlotillaRun, HappyPathStreamsPrefixedLinesAndForwardsOptions) {
  // The coordinator waits for both client processes, plays two rounds and finishes; clients
  // check their wiring and leave once it finished, as real ones leave on its shutdown message.
  Fakes fakes(kWriteEndpoint + wait_in_shell("[ \"$(ls \"$dir\"/started.* 2>/dev/null | wc -l)\" -ge 2 ]") +
                  "echo 'round 1/2 acc 0.5000 loss 0.9'\n"
                  "echo 'coordinator note on stderr' >&2\n"
                  "printf 'round 2/2 acc 0.6000 loss 0.7\\ndone 2 rounds, final accuracy 0.6000\\n'\n"
                  "touch \"$dir/finished\"\n",
              "case \"$*\" in *'--connect tcp://127.0.0.1:5999'*) ;; *) echo 'no --connect' >&2; exit 9 ;; esac\n" +
                  wait_in_shell("[ -e \"$dir/finished\" ]") + "printf 'partial line without newline'\n");
  LauncherRun run({"--bin-dir", fakes.dir(), "--clients", "5", "--processes", "2", "--rounds", "2", "--aggregator-opt",
                   "server_lr=0.5", "--data-dir", "/data/x", "--device", "cpu", "--dataset=synthetic", "--threads",
                   "3"});
  const LauncherResult r = run.finish(kRunTimeout);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "[coordinator] round 1/2 acc 0.5000")) << r.out;
  EXPECT_TRUE(contains(r.out, "[coordinator] round 2/2 acc 0.6000")) << r.out;
  EXPECT_TRUE(contains(r.out, "[coordinator] done 2 rounds")) << r.out;
  EXPECT_TRUE(contains(r.err, "[coordinator] coordinator note on stderr")) << r.err;
  // Coordinator: the launcher's wiring, the shared options, and the unknown ones verbatim.
  EXPECT_TRUE(contains(r.out, "--bind tcp://127.0.0.1:* --endpoint-file")) << r.out;
  EXPECT_TRUE(contains(r.out, "--clients 5 --min-clients 5 --threads 3")) << r.out;
  EXPECT_TRUE(contains(r.out, "--data-dir /data/x --device cpu")) << r.out;
  EXPECT_TRUE(contains(r.out, "--rounds 2 --aggregator-opt server_lr=0.5 --dataset=synthetic")) << r.out;
  // Clients: 0-2 and 3-4, connected to the endpoint the coordinator wrote; no coordinator options.
  EXPECT_TRUE(contains(r.out,
                       "[clients 0-2] args: --connect tcp://127.0.0.1:5999 --client-ids 0-2 --threads 3 "
                       "--data-dir /data/x --device cpu --coordinator-key "))
      << r.out;
  // Throwaway keys: the coordinator gets its secret key and the allowlist, each client process the
  // coordinator's public key and a key of its own.
  EXPECT_TRUE(contains(r.out, "/coordinator.secret --allowlist ")) << r.out;
  EXPECT_TRUE(contains(r.out, "/coordinator.public --key ")) << r.out;
  EXPECT_TRUE(contains(r.out, "/process-0.secret\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "/process-1.secret\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "[clients 3-4] args: --connect tcp://127.0.0.1:5999 --client-ids 3-4")) << r.out;
  EXPECT_TRUE(contains(r.out, "[clients 3-4] partial line without newline\n")) << r.out;
  const auto client_lines = lines_starting(r.out, "[clients ");
  EXPECT_EQ(client_lines.size(), 4u) << r.out;  // per process: its args and the partial line
  for (const auto& line : client_lines) EXPECT_FALSE(contains(line, "--rounds")) << line;
  EXPECT_TRUE(contains(r.err, "summary: 2 rounds")) << r.err;
  EXPECT_TRUE(contains(r.err, "clients 3-4 exited with status 0")) << r.err;
}

TEST(FlotillaRun, FailingClientStopsEverythingAndIsNamed) {
  Fakes fakes(kWriteEndpoint + "exec sleep 60\n",
              "[ \"$ids\" = 0-1 ] && { echo 'client giving up' >&2; exit 3; }\n"
              "exec sleep 60\n");
  LauncherRun run({"--bin-dir", fakes.dir(), "--clients", "4", "--processes", "2"});
  const LauncherResult r = run.finish(kRunTimeout);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(r.seconds, 30) << "the coordinator sleeps 60 s: it must have been stopped";
  EXPECT_TRUE(contains(r.err, "[clients 0-1] client giving up")) << r.err;
  EXPECT_TRUE(contains(r.err, "clients 0-1 (pid")) << r.err;
  EXPECT_TRUE(contains(r.err, "exited with status 3")) << r.err;
  EXPECT_TRUE(process_gone(fakes.coordinator_pid())) << fakes.coordinator_pid();
  // The other client process may or may not have started before the failure; if it did, it is gone.
  if (fakes.client_pid("2-3") > 0) {
    EXPECT_TRUE(process_gone(fakes.client_pid("2-3")));
  }
}

// Starts a run whose processes all sleep, waits until every one of them runs, then signals the launcher.
LauncherResult interrupt_running(Fakes& fakes, int signal, const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {"--bin-dir", fakes.dir(), "--clients", "3", "--processes", "3"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  LauncherRun run(args);
  const bool all_started = wait_until([&] { return fakes.clients_started() == 3; }, seconds(30));
  EXPECT_TRUE(all_started) << "clients never started";
  ::kill(run.pid(), signal);
  return run.finish(kRunTimeout);
}

TEST(FlotillaRun, SigintStopsEveryProcessAndExits130) {
  Fakes fakes(kWriteEndpoint + "exec sleep 60\n", "exec sleep 60\n");
  const LauncherResult r = interrupt_running(fakes, SIGINT, {});
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_LT(r.seconds, 30);
  EXPECT_TRUE(contains(r.err, "received SIGINT")) << r.err;
  EXPECT_TRUE(process_gone(fakes.coordinator_pid()));
  for (const char* ids : {"0", "1", "2"}) EXPECT_TRUE(process_gone(fakes.client_pid(ids))) << ids;
}

TEST(FlotillaRun, SigtermKillsAChildThatIgnoresItAfterTheStopTimeout) {
  // `trap '' TERM` is inherited by the exec'd sleep: only SIGKILL ends this coordinator.
  Fakes fakes("trap '' TERM\n" + kWriteEndpoint + "exec sleep 60\n", "exec sleep 60\n");
  const LauncherResult r = interrupt_running(fakes, SIGTERM, {"--stop-timeout", "0.5"});
  EXPECT_EQ(r.exit_code, 143) << r.err;
  EXPECT_LT(r.seconds, 30);
  EXPECT_TRUE(contains(r.err, "coordinator still running; sending SIGKILL")) << r.err;
  EXPECT_TRUE(process_gone(fakes.coordinator_pid()));
}

TEST(FlotillaRun, ChildrenDieWhenTheLauncherIsKilledHard) {
  Fakes fakes(kWriteEndpoint + "exec sleep 60\n", "exec sleep 60\n");
  LauncherRun run({"--bin-dir", fakes.dir(), "--clients", "2"});
  ASSERT_TRUE(wait_until([&] { return fakes.clients_started() == 2; }, seconds(30)));
  ::kill(run.pid(), SIGKILL);  // no chance to clean up: PR_SET_PDEATHSIG must do it
  EXPECT_EQ(run.finish(kRunTimeout).exit_code, 128 + SIGKILL);
  // They become orphans that init reaps, on its own schedule; allow for that.
  EXPECT_TRUE(wait_until([&] { return process_gone(fakes.coordinator_pid()); }, seconds(30)));
  EXPECT_TRUE(wait_until([&] { return process_gone(fakes.client_pid("0")); }, seconds(30)));
  EXPECT_TRUE(wait_until([&] { return process_gone(fakes.client_pid("1")); }, seconds(30)));
}

TEST(FlotillaRun, CoordinatorFailingBeforeItIsReadyFailsFastWithItsStatus) {
  Fakes fakes("echo 'bad configuration' >&2\nexit 1\n", "exit 0\n");
  LauncherRun run({"--bin-dir", fakes.dir(), "--clients", "2", "--startup-timeout", "50"});
  const LauncherResult r = run.finish(kRunTimeout);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(r.seconds, 30) << "must not wait for the startup timeout";
  EXPECT_TRUE(contains(r.err, "[coordinator] bad configuration")) << r.err;
  EXPECT_TRUE(contains(r.err, "coordinator (pid")) << r.err;
  EXPECT_TRUE(contains(r.err, "exited with status 1 before it was ready")) << r.err;
  EXPECT_EQ(fakes.clients_started(), 0);
}

TEST(FlotillaRun, CoordinatorUsageErrorStatusIsPassedOn) {
  Fakes fakes("echo 'error: --rounds must be positive' >&2\nexit 2\n", "exit 0\n");
  LauncherRun run({"--bin-dir", fakes.dir(), "--clients", "2", "--rounds", "0"});
  const LauncherResult r = run.finish(kRunTimeout);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "[coordinator] error: --rounds must be positive")) << r.err;
}

TEST(FlotillaRun, CoordinatorThatExitsWellWithoutBindingStartsNoClients) {
  // Like `--list-aggregators`: the coordinator answers and leaves; that is a success.
  Fakes fakes("echo 'fedavg: weighted average'\n", "exit 0\n");
  LauncherRun run({"--bin-dir", fakes.dir(), "--clients", "2", "--list-aggregators"});
  const LauncherResult r = run.finish(kRunTimeout);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "[coordinator] fedavg: weighted average")) << r.out;
  EXPECT_TRUE(contains(r.err, "no clients started")) << r.err;
  EXPECT_EQ(fakes.clients_started(), 0);
}

TEST(FlotillaRun, CoordinatorThatNeverBindsIsStoppedAfterTheStartupTimeout) {
  Fakes fakes("exec sleep 60\n", "exit 0\n");
  LauncherRun run({"--bin-dir", fakes.dir(), "--clients", "2", "--startup-timeout", "0.5"});
  const LauncherResult r = run.finish(kRunTimeout);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "did not write its endpoint")) << r.err;
  EXPECT_TRUE(process_gone(fakes.coordinator_pid()));
  EXPECT_EQ(fakes.clients_started(), 0);
}

TEST(FlotillaRun, ClientsLingeringAfterTheCoordinatorFinishedAreStopped) {
  Fakes fakes(kWriteEndpoint + wait_in_shell("[ \"$(ls \"$dir\"/started.* 2>/dev/null | wc -l)\" -ge 2 ]") +
                  "echo 'round 1/1 acc 0.5'\n",
              "exec sleep 60\n");
  LauncherRun run({"--bin-dir", fakes.dir(), "--clients", "2", "--client-grace", "0.5"});
  const LauncherResult r = run.finish(kRunTimeout);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.seconds, 30);
  EXPECT_TRUE(contains(r.err, "after the coordinator finished; stopping them")) << r.err;
  EXPECT_TRUE(process_gone(fakes.client_pid("0")));
  EXPECT_TRUE(process_gone(fakes.client_pid("1")));
}

TEST(FlotillaRun, BadFlagsExitWithUsageStatus) {
  Fakes fakes("exit 0\n", "exit 0\n");
  TempDir empty;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--bin-dir", fakes.dir(), "--clients", "0"}, "--clients"},
      {{"--bin-dir", fakes.dir()}, "--clients"},
      {{"--bin-dir", fakes.dir(), "--clients", "2", "--processes", "3"}, "--processes"},
      {{"--bin-dir", empty.path(), "--clients", "2"}, "flotilla-coordinator is missing"},
      {{"--bin-dir", fakes.dir(), "--clients", "2", "--bind", "tcp://*:1"}, "--bind is set by flotilla-run"},
      {{"--bin-dir", fakes.dir(), "--clients", "2", "--port", "http"}, "--port"},
      {{"--bin-dir", fakes.dir(), "--clients", "two"}, "--clients"},
  };
  for (const auto& [args, message] : cases) {
    LauncherRun run(args);
    const LauncherResult r = run.finish(kRunTimeout);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_TRUE(contains(r.err, message)) << r.err;
  }
  EXPECT_FALSE(std::ifstream(fakes.file("coordinator.pid")).good()) << "nothing may start on bad flags";
}

TEST(FlotillaRun, HelpDocumentsPassThrough) {
  LauncherRun run({"--help"});
  const LauncherResult r = run.finish(kRunTimeout);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "passed unchanged to flotilla-coordinator")) << r.out;
  EXPECT_TRUE(contains(r.out, "--processes")) << r.out;
}

}  // namespace
}  // namespace flotilla::testing
