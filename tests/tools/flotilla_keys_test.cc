// flotilla-keys end to end: the built binary generates key files with the right modes, refuses to
// overwrite a secret without --force, prints allowlist lines the Allowlist parser reads, shows
// public keys, and answers bad input with one "error: ..." line and exit status 2 (usage) or 1.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <sstream>

#include "tests/integration/process.h"
#include "transport/allowlist.h"
#include "transport/curve_keys.h"

namespace flotilla {
namespace {

using testing::ToolResult;

using testing::ChildProcess;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class FlotillaKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("flotilla-keys-test");
    ASSERT_FALSE(dir_.empty());
    keys_ = dir_ + "/keys";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ToolResult run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {std::string(FLOTILLA_BIN_DIR) + "/flotilla-keys"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess tool(argv, dir_ + "/tool.log");
    EXPECT_TRUE(tool.started()) << argv[0];
    return ToolResult{tool.wait_for(std::chrono::seconds(60)), tool.log()};
  }

  // Bad input: `exit_code` and exactly one line, "error: ..." mentioning `mentions`.
  void expect_error(const std::vector<std::string>& args, int exit_code, const std::string& mentions) {
    const ToolResult r = run(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, exit_code) << shown << "\n" << r.output;
    const auto lines = split_lines(r.output);
    ASSERT_EQ(lines.size(), 1u) << shown << "\n" << r.output;
    EXPECT_EQ(lines[0].rfind("error: ", 0), 0u) << shown << "\n" << r.output;
    EXPECT_TRUE(contains(lines[0], mentions)) << shown << "\n" << r.output;
  }

  std::string dir_, keys_;
};

TEST_F(FlotillaKeysTest, GenerateWritesKeyFilesWithTheirModes) {
  const ToolResult r = run({"generate", "--out", keys_, "coordinator", "site-a"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(split_lines(r.output).size(), 2u) << r.output;
  EXPECT_EQ(mode_of(keys_), 0700u);
  for (const std::string name : {"coordinator", "site-a"}) {
    const std::string secret = keys_ + "/" + name + ".secret", pub = keys_ + "/" + name + ".public";
    EXPECT_EQ(mode_of(secret), 0600u) << secret;
    EXPECT_EQ(mode_of(pub), 0644u) << pub;
    auto pair = read_secret_key_file(secret);
    ASSERT_TRUE(pair.ok()) << pair.status();
    EXPECT_EQ(*read_public_key(pub), pair->public_key);
    EXPECT_TRUE(contains(r.output, pair->public_key)) << "the public key is printed";
    EXPECT_FALSE(contains(r.output, pair->secret_key)) << "the secret key is never printed";
  }
  EXPECT_NE(*read_public_key(keys_ + "/coordinator.public"), *read_public_key(keys_ + "/site-a.public"));
}

TEST_F(FlotillaKeysTest, RefusesToReplaceASecretWithoutForce) {
  ASSERT_EQ(run({"generate", "--out", keys_, "site-a"}).exit_code, 0);
  const std::string secret = keys_ + "/site-a.secret";
  const std::string before = read_secret_key_file(secret)->secret_key;

  expect_error({"generate", "--out", keys_, "site-b", "site-a"}, 1, secret + " exists; --force");
  EXPECT_EQ(read_secret_key_file(secret)->secret_key, before);
  EXPECT_FALSE(std::filesystem::exists(keys_ + "/site-b.secret")) << "nothing is written when one name is refused";

  ASSERT_EQ(run({"generate", "--force", "--out", keys_, "site-a"}).exit_code, 0);
  EXPECT_NE(read_secret_key_file(secret)->secret_key, before);
  EXPECT_EQ(mode_of(secret), 0600u);
}

TEST_F(FlotillaKeysTest, AllowPrintsLinesTheAllowlistReads) {
  ASSERT_EQ(run({"generate", "--out", keys_, "site-a", "site-b"}).exit_code, 0);
  const std::string key_a = *read_public_key(keys_ + "/site-a.public");
  const std::string key_b = *read_public_key(keys_ + "/site-b.public");

  ToolResult a = run({"allow", "--ids", "0-9", keys_ + "/site-a.public"});
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_EQ(a.output, "site-a " + key_a + " 0-9\n");
  ToolResult b = run({"allow", "--ids", "12,10-11,20", "--name", "lab", keys_ + "/site-b.public"});
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_EQ(b.output, "lab " + key_b + " 10-12,20\n");
  ToolResult any = run({"allow", "--ids", "*", "--name", "debug", key_b});
  ASSERT_EQ(any.exit_code, 0) << any.output;
  EXPECT_EQ(any.output, "debug " + key_b + " *\n");

  auto list = Allowlist::parse(a.output + b.output);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->check_ids("site-a", {0, 9}).ok());
  EXPECT_EQ(list->check_ids("lab", {13}).code(), StatusCode::kPermissionDenied);
}

TEST_F(FlotillaKeysTest, ShowPrintsThePublicKey) {
  ASSERT_EQ(run({"generate", "--out", keys_, "site-a"}).exit_code, 0);
  const std::string key = *read_public_key(keys_ + "/site-a.public");
  EXPECT_EQ(run({"show", keys_ + "/site-a.public"}).output, key + "\n");
  EXPECT_EQ(run({"show", keys_ + "/site-a.secret"}).output, key + "\n");
  ASSERT_EQ(::chmod((keys_ + "/site-a.secret").c_str(), 0644), 0);
  expect_error({"show", keys_ + "/site-a.secret"}, 1, "chmod 600");
}

TEST_F(FlotillaKeysTest, BadInputIsOneLineWithItsExitStatus) {
  expect_error({}, 2, "subcommand");
  expect_error({"generate", "site-a"}, 2, "--out");
  expect_error({"generate", "--out", keys_, "bad/name"}, 2, "name 'bad/name'");
  expect_error({"generate", "--out", keys_, "a", "a"}, 2, "given twice");
  expect_error({"allow", "--ids", "0-9", dir_ + "/missing.public"}, 1, "missing.public");
  expect_error({"allow", keys_ + "/x.public"}, 2, "--ids");
  ASSERT_EQ(run({"generate", "--out", keys_, "site-a"}).exit_code, 0);
  expect_error({"allow", "--ids", "5-3", keys_ + "/site-a.public"}, 2, "'5-3'");
  expect_error({"allow", "--ids", "1", *read_public_key(keys_ + "/site-a.public")}, 2, "--name is required");
  expect_error({"show", dir_ + "/missing.public"}, 1, "missing.public");
}

}  // namespace
}  // namespace flotilla
