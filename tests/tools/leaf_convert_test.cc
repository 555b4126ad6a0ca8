// The LEAF converter in-process on small generated LEAF files (the real FEMNIST is gigabytes), and
// flotilla-data leaf-to-sites as a process: its exit status and one-line messages.
#include "tools/data/leaf_convert.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "datasets/file_bytes.h"
#include "datasets/site_data.h"
#include "datasets/tensor_file.h"
#include "tests/integration/process.h"
#include "tests/support/text.h"

namespace flotilla {
namespace {

using testing::ToolResult;

using test_text::contains;

namespace fs = std::filesystem;
using json = nlohmann::json;

// n samples of `length` values in [0, 1], distinct per user (seeded by `seed`).
json user(int seed, int n, int length, std::vector<int> labels) {
  json x = json::array();
  for (int i = 0; i < n; ++i) {
    json row = json::array();
    for (int j = 0; j < length; ++j) row.push_back(((seed * 31 + i * 7 + j) % 256) / 255.0);
    x.push_back(row);
  }
  return {{"x", x}, {"y", labels}};
}

void write_json(const std::string& path, const json& users) {
  json file = {{"users", json::array()}, {"num_samples", json::array()}, {"user_data", users}};
  for (const auto& [name, data] : users.items()) {
    file["users"].push_back(name);
    file["num_samples"].push_back(data["y"].size());
  }
  ASSERT_TRUE(write_file_bytes(path, file.dump(), false).ok()) << path;
}

class LeafConvertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("leaf-convert-test");
    ASSERT_FALSE(dir_.empty());
    fs::create_directories(dir_ + "/train");
    fs::create_directories(dir_ + "/test");
    // Three users over two train files, in no particular order; two of them have test data.
    write_json(dir_ + "/train/part_b.json", {{"f_0002", user(2, 3, 4, {5, 0, 1})}});
    write_json(dir_ + "/train/part_a.json", {{"f_0010", user(10, 2, 4, {3, 3})}, {"f_0001", user(1, 1, 4, {2})}});
    write_json(
        dir_ + "/test/all.json",
        {{"f_0001", user(101, 2, 4, {0, 61})}, {"f_0010", user(110, 1, 4, {1})}, {"f_9999", user(99, 1, 4, {0})}});
    options_.train_dir = dir_ + "/train";
    options_.test_dir = dir_ + "/test";
    options_.out_dir = dir_ + "/out";
    options_.image_shape = {1, 2, 2};
  }
  void TearDown() override { fs::remove_all(dir_); }

  void expect_error(const LeafConvertOptions& o, StatusCode code, const std::vector<std::string>& parts) {
    const Status s = convert_leaf(o);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), code) << s;
    for (const auto& part : parts) EXPECT_TRUE(contains(s.message(), part)) << "no '" << part << "' in " << s;
  }

  std::string dir_;
  LeafConvertOptions options_;
};

TEST_F(LeafConvertTest, UsersInSortedOrderBecomeClientFolders) {
  ASSERT_TRUE(convert_leaf(options_).ok());
  const std::string out = options_.out_dir;
  auto table = read_file_bytes(out + "/users.csv");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(*table,
            "client_id,user,train_samples,test_samples\n"
            "0,f_0001,1,2\n"
            "1,f_0002,3,0\n"
            "2,f_0010,2,1\n");  // f_9999 has test data only: no client
  EXPECT_FALSE(fs::exists(out + "/client_3"));

  // client_1 is f_0002: its pixels as round(x * 255), its labels, and the shared label space.
  auto train = read_tensor_file(out + "/client_1/train.pt");
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->images.scalar_type(), at::kByte);
  EXPECT_EQ(train->images.sizes(), (at::IntArrayRef{3, 1, 2, 2}));
  EXPECT_EQ(train->images[1][0][1][0].item<int>(), (2 * 31 + 1 * 7 + 2) % 256);
  EXPECT_TRUE(at::equal(train->labels, at::tensor({5, 0, 1}, at::kLong)));
  EXPECT_EQ(train->num_classes, 62);  // f_0001's test label 61 sets it for everyone
  EXPECT_FALSE(fs::exists(out + "/client_1/test.pt"));

  auto site = load_site_dir(out + "/client_0", SiteDataOptions());
  ASSERT_TRUE(site.ok()) << site.status();
  EXPECT_EQ(site->train.size(), 1);
  EXPECT_EQ(site->test.size(), 2);
  EXPECT_EQ(site->train.num_classes, 62);
  EXPECT_EQ(*site_dir_for(out, 2, false), out + "/client_2");
}

TEST_F(LeafConvertTest, MaxUsersFloatAndNumClasses) {
  ASSERT_TRUE(convert_leaf(options_).ok());
  options_.max_users = 2;
  options_.uint8 = false;
  options_.num_classes = 100;
  ASSERT_TRUE(convert_leaf(options_).ok());
  EXPECT_FALSE(fs::exists(options_.out_dir + "/client_2")) << "the earlier run's third client must go";
  auto train = read_tensor_file(options_.out_dir + "/client_1/train.pt");
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->images.scalar_type(), at::kFloat);
  EXPECT_FLOAT_EQ(train->images[1][0][1][0].item<float>(), static_cast<float>(((2 * 31 + 1 * 7 + 2) % 256) / 255.0));
  EXPECT_EQ(train->num_classes, 100);

  options_.num_classes = 50;  // below label 61
  expect_error(options_, StatusCode::kInvalidArgument, {"f_0001", "label 61", "num_classes = 50"});
}

TEST_F(LeafConvertTest, WrongRowLengthNamesFileAndUser) {
  options_.image_shape = {1, 28, 28};
  expect_error(options_, StatusCode::kInvalidArgument,
               {dir_ + "/train/part_a.json", "user \"f_0001\"", "sample 0 has 4 values", "784", "1x28x28"});
}

TEST_F(LeafConvertTest, ValuesOutsideZeroToOneNeedFloatOutput) {
  json bad = user(3, 1, 4, {0});
  bad["x"][0][2] = 1.5;
  write_json(dir_ + "/train/part_c.json", {{"f_0003", bad}});
  expect_error(options_, StatusCode::kInvalidArgument,
               {dir_ + "/train/part_c.json", "user \"f_0003\"", "sample 0", "1.5", "outside [0, 1]"});
  options_.uint8 = false;
  EXPECT_TRUE(convert_leaf(options_).ok());
}

TEST_F(LeafConvertTest, BadFilesAreDataLoss) {
  ASSERT_TRUE(write_file_bytes(dir_ + "/train/part_c.json", "{\"user_data\": {", false).ok());
  expect_error(options_, StatusCode::kDataLoss, {dir_ + "/train/part_c.json", "not JSON"});
  ASSERT_TRUE(write_file_bytes(dir_ + "/train/part_c.json", "[1, 2]", false).ok());
  expect_error(options_, StatusCode::kDataLoss, {dir_ + "/train/part_c.json", "\"user_data\""});

  json uneven = user(4, 2, 4, {0});
  write_json(dir_ + "/train/part_c.json", {{"f_0004", uneven}});
  expect_error(options_, StatusCode::kDataLoss, {"user \"f_0004\"", "2 x rows but 1 y labels"});

  json bad_label = user(4, 1, 4, {0});
  bad_label["y"][0] = "seven";
  write_json(dir_ + "/train/part_c.json", {{"f_0004", bad_label}});
  expect_error(options_, StatusCode::kDataLoss, {"user \"f_0004\"", "label \"seven\"", "not a class index"});

  write_json(dir_ + "/train/part_c.json", {{"f_0002", user(2, 1, 4, {0})}});
  expect_error(options_, StatusCode::kDataLoss, {"user \"f_0002\" appears in both", "part_b.json", "part_c.json"});
}

TEST_F(LeafConvertTest, BadOptionsAndFolders) {
  LeafConvertOptions o = options_;
  o.train_dir = dir_ + "/nope";
  expect_error(o, StatusCode::kNotFound, {dir_ + "/nope", "no such folder"});
  o.train_dir = dir_ + "/out_empty";
  fs::create_directories(o.train_dir);
  expect_error(o, StatusCode::kNotFound, {"no *.json files"});
  o = options_;
  o.out_dir = "";
  expect_error(o, StatusCode::kInvalidArgument, {"out_dir"});
  o = options_;
  o.image_shape = {1, 0, 2};
  expect_error(o, StatusCode::kInvalidArgument, {"shape"});
  o = options_;
  o.max_users = -1;
  expect_error(o, StatusCode::kInvalidArgument, {"max_users"});
}

TEST_F(LeafConvertTest, CommandLineTool) {
  const auto run = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {std::string(FLOTILLA_BIN_DIR) + "/flotilla-data"};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::ChildProcess tool(argv, dir_ + "/tool.log");
    EXPECT_TRUE(tool.started()) << argv[0];
    return ToolResult{tool.wait_for(std::chrono::seconds(60)), tool.log()};
  };
  ToolResult r = run({"leaf-to-sites", "--train", options_.train_dir, "--test", options_.test_dir, "--out",
                      options_.out_dir, "--shape", "1x2x2", "--max-users", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "wrote 2 client folders")) << r.output;
  EXPECT_TRUE(fs::exists(options_.out_dir + "/client_1/train.pt"));

  r = run({"leaf-to-sites", "--train", options_.train_dir, "--out", options_.out_dir, "--shape", "1x2xz"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "error: --shape '1x2xz'")) << r.output;

  r = run({"leaf-to-sites", "--train", options_.train_dir, "--out", options_.out_dir});  // 1x28x28 by default
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "error: ")) << r.output;
  EXPECT_TRUE(contains(r.output, "784")) << r.output;

  r = run({"leaf-to-sites", "--out", options_.out_dir});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--train")) << r.output;

  r = run({});
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

}  // namespace
}  // namespace flotilla
