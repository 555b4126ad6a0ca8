#include "launcher/command_line.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/launcher/launcher_harness.h"

namespace flotilla {
namespace {

CommandLine parse(std::vector<std::string> args, std::string* out = nullptr, std::string* err = nullptr) {
  args.insert(args.begin(), "flotilla-run");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out_stream, err_stream;
  CommandLine result = parse_command_line(static_cast<int>(argv.size()), argv.data(), out_stream, err_stream);
  if (out) *out = out_stream.str();
  if (err) *err = err_stream.str();
  return result;
}

TEST(CommandLine, UnknownOptionsPassThroughVerbatimAndInOrder) {
  const CommandLine c = parse({"--rounds", "5", "--clients", "10", "--aggregator-opt", "server_lr=0.5", "--lr", "-0.1",
                               "--processes=3", "--dataset=mnist", "--aggregator-opt", "beta=0.9", "--plugin", "a.so"});
  ASSERT_FALSE(c.exit_code);
  EXPECT_EQ(c.options.clients, 10);
  EXPECT_EQ(c.options.processes, 3);
  EXPECT_EQ(c.options.coordinator_args,
            (std::vector<std::string>{"--rounds", "5", "--aggregator-opt", "server_lr=0.5", "--lr", "-0.1",
                                      "--dataset=mnist", "--aggregator-opt", "beta=0.9"}));
  // --plugin is the launcher's own: every process gets it (launch_plan_test.cc).
  EXPECT_EQ(c.options.plugins, (std::vector<std::string>{"a.so"}));
}

TEST(CommandLine, LauncherOptionsAreParsed) {
  const CommandLine c = parse({"--clients",
                               "4",
                               "--port",
                               "5555",
                               "--threads",
                               "2",
                               "--data-dir",
                               "/d",
                               "--device",
                               "cuda:1",
                               "--log-level",
                               "debug",
                               "--out",
                               "runs/x",
                               "--bin-dir",
                               "/b",
                               "--min-clients",
                               "3",
                               "--startup-timeout",
                               "5",
                               "--client-grace",
                               "2",
                               "--stop-timeout",
                               "1.5"});
  ASSERT_FALSE(c.exit_code);
  const LaunchOptions& o = c.options;
  EXPECT_EQ(o.port, "5555");
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(o.data_dir, "/d");
  EXPECT_EQ(o.device, "cuda:1");
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.out_dir, "runs/x");
  EXPECT_EQ(o.bin_dir, "/b");
  EXPECT_EQ(o.min_clients, 3);
  EXPECT_DOUBLE_EQ(o.startup_timeout_s, 5);
  EXPECT_DOUBLE_EQ(o.client_grace_s, 2);
  EXPECT_DOUBLE_EQ(o.stop_timeout_s, 1.5);
  EXPECT_TRUE(o.coordinator_args.empty());
}

TEST(CommandLine, LiveViewAndProgress) {
  const CommandLine plain = parse({"--clients", "2"});
  EXPECT_TRUE(plain.options.live_view.empty());
  EXPECT_FALSE(plain.options.no_progress);
  EXPECT_FALSE(plain.options.progress_line) << "main decides, from the terminal";
  const CommandLine c =
      parse({"--clients", "2", "--live-view", "8080", "--no-progress", "--live-view-token-file", "t"});
  ASSERT_FALSE(c.exit_code);
  EXPECT_EQ(c.options.live_view, "8080");
  EXPECT_TRUE(c.options.no_progress);
  EXPECT_EQ(c.options.coordinator_args, (std::vector<std::string>{"--live-view-token-file", "t"}));
}

TEST(CommandLine, ResumeAndEncryption) {
  const CommandLine plain = parse({"--clients", "2"});
  EXPECT_TRUE(plain.options.encrypt) << "local runs are encrypted by default";
  EXPECT_TRUE(plain.options.resume_dir.empty());
  const CommandLine c = parse({"--resume", "runs/a", "--no-encryption", "--rounds", "9"});
  EXPECT_FALSE(c.exit_code.has_value());
  EXPECT_EQ(c.options.resume_dir, "runs/a");
  EXPECT_FALSE(c.options.encrypt);
  EXPECT_EQ(c.options.clients, 0);
  EXPECT_EQ(c.options.coordinator_args, (std::vector<std::string>{"--rounds", "9"}));
}

TEST(CommandLine, ConfigFileIsReadHereAndKeptForTheChildren) {
  testing::TempDir dir;
  const std::string path = dir.file("run.toml");
  testing::write_text(path, "clients = 7\nrounds = 3\ndata-dir = \"/data\"\n");
  const CommandLine c = parse({"--config", path, "--dataset", "mnist"});
  ASSERT_FALSE(c.exit_code);
  EXPECT_EQ(c.options.clients, 7);
  EXPECT_EQ(c.options.data_dir, "/data");
  EXPECT_EQ(c.options.config, path);
  // The coordinator reads `rounds` from the same file itself; it is not duplicated here.
  EXPECT_EQ(c.options.coordinator_args, (std::vector<std::string>{"--dataset", "mnist"}));
}

TEST(CommandLine, HelpExitsZeroAndMalformedValuesExitTwo) {
  std::string out, err;
  EXPECT_EQ(parse({"--help"}, &out).exit_code, 0);
  EXPECT_NE(out.find("flotilla-coordinator"), std::string::npos);
  EXPECT_EQ(parse({"--clients", "many"}, nullptr, &err).exit_code, 2);
  EXPECT_NE(err.find("--clients"), std::string::npos);
  EXPECT_EQ(parse({"--clients", "1", "--clients", "2"}).exit_code, 2);
  EXPECT_EQ(parse({"--config", "/nonexistent/run.toml"}).exit_code, 2);
}

}  // namespace
}  // namespace flotilla
