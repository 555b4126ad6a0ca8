// The allowlist file: good files, each kind of bad line (named by its number), lookups, id checks.
#include "transport/allowlist.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/text.h"
#include "tests/transport/transport_test_util.h"
#include "transport/curve_keys.h"

namespace flotilla {
namespace {

using test_text::contains;

class AllowlistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* key : {&k1_, &k2_, &k3_}) {
      auto pair = generate_curve_keypair();
      ASSERT_TRUE(pair.ok()) << pair.status();
      *key = pair->public_key;
    }
  }

  // Expects parse() to fail on `text`, naming `line` and mentioning `problem`.
  void expect_bad(const std::string& text, int line, const std::string& problem) {
    auto list = Allowlist::parse(text);
    ASSERT_FALSE(list.ok()) << text;
    EXPECT_EQ(list.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(list.status().message(), "line " + std::to_string(line) + ":")) << list.status();
    EXPECT_TRUE(contains(list.status().message(), problem)) << list.status();
  }

  std::string k1_, k2_, k3_;
};

TEST_F(AllowlistTest, ParsesNamesKeysAndIds) {
  const std::string text = "# coordinator allowlist\n\n   # indented comment\nsite-a " + k1_ + " 0-9\n" + "site_b.2\t" +
                           k2_ + "\t10,12,20-21   # trailing comment\n" + "debug " + k3_ + " *\n";
  auto list = Allowlist::parse(text);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 3u);

  const AllowedClient* a = list->find_by_key(k1_);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->name, "site-a");
  EXPECT_FALSE(a->any_id);
  EXPECT_EQ(a->client_ids, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  const AllowedClient* b = list->find_by_name("site_b.2");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->public_key, k2_);
  EXPECT_EQ(b->client_ids, (std::vector<int>{10, 12, 20, 21}));
  EXPECT_TRUE(list->find_by_name("debug")->any_id);
  EXPECT_EQ(list->find_by_key("unknown"), nullptr);
  EXPECT_EQ(list->find_by_name("nobody"), nullptr);
}

TEST_F(AllowlistTest, ChecksIds) {
  auto list = Allowlist::parse("a " + k1_ + " 0-4,8\nany " + k2_ + " *\n");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->check_ids("a", {0, 4, 8}).ok());
  EXPECT_TRUE(list->check_ids("a", {}).ok());
  EXPECT_TRUE(list->check_ids("any", {0, 12345}).ok());

  const Status bad = list->check_ids("a", {1, 5, 9});
  EXPECT_EQ(bad.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(contains(bad.message(), "client id 5")) << bad << " (the first id not given)";
  EXPECT_TRUE(contains(bad.message(), "0-4,8")) << bad;
  const Status unknown = list->check_ids("mallory", {0});
  EXPECT_EQ(unknown.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(contains(unknown.message(), "mallory")) << unknown;
}

TEST_F(AllowlistTest, EachKindOfBadLineIsNamed) {
  const std::string good = "a " + k1_ + " 0\n";
  expect_bad(good + "b " + k2_ + "\n", 2, "expected NAME PUBLIC_KEY IDS");
  expect_bad(good + "b\n", 2, "got 1 fields");
  expect_bad(good + "b " + k2_ + " 1 extra\n", 2, "expected NAME PUBLIC_KEY IDS");
  expect_bad(good + "b/c " + k2_ + " 1\n", 2, "name 'b/c'");
  expect_bad(good + "\n\na " + k2_ + " 1\n", 4, "already used on line 1");
  expect_bad(good + "b " + k2_.substr(1) + " 1\n", 2, "40 Z85 characters, got 39");
  expect_bad(good + "b " + "~" + k2_.substr(1) + " 1\n", 2, "not Z85");
  expect_bad(good + "b " + k1_ + " 1\n", 2, "already allowed as 'a' on line 1");
  expect_bad(good + "b " + k2_ + " 5-3\n", 2, "'5-3'");
  expect_bad(good + "b " + k2_ + " -1\n", 2, "ids of 'b'");
  expect_bad(good + "b " + k2_ + " x\n", 2, "ids of 'b'");
}

TEST_F(AllowlistTest, EmptyTextIsAnEmptyList) {
  auto list = Allowlist::parse("# nobody yet\n\n");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 0u);
}

TEST_F(AllowlistTest, TextRoundTripsAndAddChecks) {
  Allowlist list;
  list.add({"x", k1_, false, {3, 1, 2, 2, 7}});
  list.add({"y", k2_, true, {}});
  EXPECT_EQ(list.find_by_name("x")->client_ids, (std::vector<int>{1, 2, 3, 7})) << "sorted, unique";
  EXPECT_FALSE(list.check_addable({"x", k3_, true, {}}).ok()) << "duplicate name";
  EXPECT_FALSE(list.check_addable({"z", k1_, true, {}}).ok()) << "duplicate key";
  EXPECT_FALSE(list.check_addable({"z", "short", true, {}}).ok()) << "bad key";
  EXPECT_FALSE(list.check_addable({"z", k3_, false, {}}).ok()) << "no ids";
  EXPECT_TRUE(list.check_addable({"z", k3_, false, {0}}).ok());

  auto back = Allowlist::parse(list.to_text());
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << list.to_text();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ(back->find_by_key(k1_)->client_ids, (std::vector<int>{1, 2, 3, 7}));
  EXPECT_TRUE(back->find_by_key(k2_)->any_id);
}

TEST_F(AllowlistTest, LoadNamesTheFile) {
  testing::TempDir dir;
  const std::string path = dir.file("allowlist.txt");
  auto missing = Allowlist::load(path);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(contains(missing.status().message(), path));

  { std::ofstream(path) << "a " << k1_ << " 0-1\nb " << k1_ << " 2\n"; }
  auto dup = Allowlist::load(path);
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(contains(dup.status().message(), path)) << dup.status();
  EXPECT_TRUE(contains(dup.status().message(), "line 2:")) << dup.status();

  { std::ofstream(path, std::ios::trunc) << "a " << k1_ << " 0-1\n"; }
  auto ok = Allowlist::load(path);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size(), 1u);
}

}  // namespace
}  // namespace flotilla
