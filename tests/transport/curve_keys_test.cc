// CURVE key pairs and key files: generation, round trip, file modes, and a clear error naming the
// file for each kind of bad input.
#include "transport/curve_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/support/text.h"
#include "tests/transport/transport_test_util.h"

namespace flotilla {
namespace {

using test_text::contains;

using testing::TempDir;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const std::string& path, const std::string& text, mode_t mode = 0600) {
  { std::ofstream(path, std::ios::trunc) << text; }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

std::string secret_file_text(const std::string& public_key, const std::string& secret_key) {
  return "# test\nmetadata\ncurve\n    public-key = \"" + public_key + "\"\n    secret-key = \"" + secret_key + "\"\n";
}

class CurveKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto a = generate_curve_keypair();
    auto b = generate_curve_keypair();
    ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
    a_ = *a;
    b_ = *b;
  }

  TempDir dir_;
  CurveKeyPair a_, b_;
};

TEST_F(CurveKeysTest, GeneratesValidDistinctPairs) {
  EXPECT_EQ(a_.public_key.size(), 40u);
  EXPECT_EQ(a_.secret_key.size(), 40u);
  EXPECT_TRUE(check_curve_key_pair(a_, "a").ok());
  EXPECT_NE(a_.public_key, b_.public_key);
  EXPECT_NE(a_.secret_key, b_.secret_key);
  auto derived = curve_keypair_from_secret(a_.secret_key, "a");
  ASSERT_TRUE(derived.ok()) << derived.status();
  EXPECT_EQ(derived->public_key, a_.public_key);
}

TEST_F(CurveKeysTest, WritesAndReadsBackWithModes) {
  const std::string secret = dir_.file("site.secret"), pub = dir_.file("site.public");
  const mode_t old_umask = ::umask(0);  // the modes must not depend on the umask
  const Status written = write_key_pair(a_, secret, pub);
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written;
  EXPECT_EQ(mode_of(secret), 0600u);
  EXPECT_EQ(mode_of(pub), 0644u);
  EXPECT_FALSE(contains(read_text(pub), a_.secret_key)) << "the public file must not hold the secret key";

  auto keys = read_secret_key_file(secret);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->public_key, a_.public_key);
  EXPECT_EQ(keys->secret_key, a_.secret_key);
  EXPECT_EQ(*read_public_key(pub), a_.public_key);
  EXPECT_EQ(*read_public_key(secret), a_.public_key) << "a secret file also gives its public key";
  EXPECT_EQ(*read_public_key(a_.public_key), a_.public_key) << "a literal Z85 key";

  // Overwriting replaces both files and leaves no temporary files behind.
  ASSERT_TRUE(write_key_pair(b_, secret, pub).ok());
  EXPECT_EQ(read_secret_key_file(secret)->secret_key, b_.secret_key);
  EXPECT_EQ(*read_public_key(pub), b_.public_key);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()), {}), 2);
}

TEST_F(CurveKeysTest, ReadsCzmqStyleCertificates) {
  // zcert_save_secret's layout, with its metadata entries.
  const std::string path = dir_.file("czmq_secret");
  write_text(path,
             "#   ****  Generated on 2024-01-01 by CZMQ  ****\n#   ZeroMQ CURVE **Secret** Certificate\n\n"
             "metadata\n    name = \"node\"\ncurve\n    public-key = \"" +
                 a_.public_key + "\"\n    secret-key = \"" + a_.secret_key + "\"\n");
  auto keys = read_secret_key_file(path);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->public_key, a_.public_key);
}

TEST_F(CurveKeysTest, RefusesASecretFileOthersCanRead) {
  const std::string path = dir_.file("open.secret");
  write_text(path, secret_file_text(a_.public_key, a_.secret_key), 0640);
  auto keys = read_secret_key_file(path);
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(contains(keys.status().message(), path)) << keys.status();
  EXPECT_TRUE(contains(keys.status().message(), "chmod 600")) << keys.status();
  EXPECT_TRUE(contains(keys.status().message(), "0640")) << keys.status();
}

TEST_F(CurveKeysTest, NamesTheFileAndTheProblem) {
  struct Case {
    std::string name, text, mentions;
  };
  const std::string bad_char = "~" + a_.secret_key.substr(1);
  const std::vector<Case> cases = {
      {"short.secret", secret_file_text(a_.public_key, a_.secret_key.substr(1)), "must be 40 Z85 characters, got 39"},
      {"badchar.secret", secret_file_text(a_.public_key, bad_char), "is not Z85"},
      {"mixed.secret", secret_file_text(a_.public_key, b_.secret_key), "does not match"},
      {"public_only.secret", "curve\n    public-key = \"" + a_.public_key + "\"\n", "no secret-key line"},
      {"no_public.secret", "curve\n    secret-key = \"" + a_.secret_key + "\"\n", "no public-key line"},
      {"unquoted.secret", "public-key = " + a_.public_key + "\n", "quoted"},
      {"twice.secret", secret_file_text(a_.public_key, a_.secret_key) + "secret-key = \"" + b_.secret_key + "\"\n",
       "a second secret-key"},
  };
  for (const Case& c : cases) {
    const std::string path = dir_.file(c.name);
    write_text(path, c.text);
    auto keys = read_secret_key_file(path);
    ASSERT_FALSE(keys.ok()) << c.name;
    EXPECT_EQ(keys.status().code(), StatusCode::kInvalidArgument) << keys.status();
    EXPECT_TRUE(contains(keys.status().message(), path)) << keys.status();
    EXPECT_TRUE(contains(keys.status().message(), c.mentions)) << c.name << ": " << keys.status();
    EXPECT_FALSE(contains(keys.status().message(), a_.secret_key)) << "errors must not print secret keys";
  }
  auto missing = read_secret_key_file(dir_.file("missing.secret"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(contains(missing.status().message(), dir_.file("missing.secret")));
}

TEST_F(CurveKeysTest, PublicKeyArgumentsAreFilesOrKeys) {
  auto neither = read_public_key("no-such-file.public");
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(contains(neither.status().message(), "no-such-file.public"));
  EXPECT_FALSE(read_public_key(a_.public_key.substr(1)).ok()) << "39 characters";
  EXPECT_FALSE(read_public_key("~" + a_.public_key.substr(1)).ok()) << "not Z85";

  const std::string empty = dir_.file("empty.public");
  write_text(empty, "# nothing here\n", 0644);
  auto r = read_public_key(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "no public-key line")) << r.status();
}

TEST_F(CurveKeysTest, KeyChecks) {
  EXPECT_TRUE(check_curve_key(a_.public_key, "k").ok());
  EXPECT_FALSE(check_curve_key("", "k").ok());
  EXPECT_FALSE(check_curve_key(std::string(40, ' '), "k").ok());
  EXPECT_FALSE(check_curve_key(std::string(39, '0') + '\0', "k").ok());
  // In the alphabet but over 2^32 per 5 characters: does not decode.
  EXPECT_FALSE(check_curve_key(std::string(40, '#'), "k").ok());
  EXPECT_TRUE(contains(check_curve_key("abc", "client public key").message(), "client public key"));
  CurveKeyPair mixed{a_.public_key, b_.secret_key};
  EXPECT_FALSE(check_curve_key_pair(mixed, "pair").ok());
  EXPECT_EQ(write_key_pair(mixed, dir_.file("x.secret"), dir_.file("x.public")).code(), StatusCode::kInvalidArgument);
  const Status no_dir = write_key_pair(a_, dir_.file("no/such/dir.secret"), dir_.file("no/such/dir.public"));
  EXPECT_EQ(no_dir.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(contains(no_dir.message(), "no/such/dir.secret")) << no_dir;
}

}  // namespace
}  // namespace flotilla
