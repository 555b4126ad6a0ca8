#include "datasets/csv_table.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "datasets/file_bytes.h"
#include "temp_dir.h"
#include "tests/support/text.h"

namespace flotilla {
namespace {

using test_text::contains;

using flotilla::testing::fresh_dir;

// Writes `text` as DIR/train.csv and reads it with label column "label".
StatusOr<TensorDataset> read_text(const std::string& dir, const std::string& text,
                                  std::vector<std::string>* columns = nullptr) {
  const std::string path = dir + "/train.csv";
  if (Status s = write_file_bytes(path, text, false); !s.ok()) return s;
  return read_csv_dataset(path, "label", columns);
}

// Expects InvalidArgument whose message names the file and contains every part.
void expect_invalid(const std::string& text, const std::vector<std::string>& parts) {
  SCOPED_TRACE(text);
  const std::string dir = fresh_dir("bad");
  auto r = read_text(dir, text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status();
  EXPECT_TRUE(contains(r.status().message(), dir + "/train.csv")) << r.status();
  for (const auto& part : parts)
    EXPECT_TRUE(contains(r.status().message(), part)) << "no '" << part << "' in " << r.status();
}

TEST(CsvTableTest, ReadsFeaturesAndLabels) {
  std::vector<std::string> columns;
  auto d = read_text(fresh_dir("ok"),
                     "\"age\",label, \"blood, pressure\"\r\n"
                     "\r\n"
                     "1.5, 3.0 ,120\r\n"
                     "  \n"
                     "-2,0,+1e2\r\n"
                     "0.25,1,\"7\"",  // no newline at the end; a quoted number
                     &columns);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->images.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(d->images, at::tensor({1.5f, 120.f, -2.f, 100.f, 0.25f, 7.f}).view({3, 2})));
  EXPECT_TRUE(at::equal(d->labels, at::tensor({3, 0, 1}, at::kLong)));
  EXPECT_EQ(d->num_classes, 4);
  EXPECT_TRUE(d->mean.empty());
  EXPECT_EQ(columns, (std::vector<std::string>{"age", "blood, pressure"}));
}

TEST(CsvTableTest, ByteOrderMarkGzipAndTwoClassMinimum) {
  const std::string dir = fresh_dir("gz");
  const std::string path = dir + "/train.csv";
  ASSERT_TRUE(write_file_bytes(path, "\xEF\xBB\xBFlabel,x\n0,1\n0,2\n", /*gzip=*/true).ok());
  auto d = read_csv_dataset(path, "label");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->images.sizes(), (at::IntArrayRef{2, 1}));
  EXPECT_EQ(d->num_classes, 2);  // all labels 0: still at least 2
}

TEST(CsvTableTest, NumbersTooSmallForADoubleAreZero) {
  auto d = read_text(fresh_dir("tiny"), "label,x\n0,1e-400\n1,-1e-400\n");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(at::equal(d->images, at::zeros({2, 1})));
}

TEST(CsvTableTest, OtherLabelColumn) {
  const std::string dir = fresh_dir("other");
  ASSERT_TRUE(write_file_bytes(dir + "/t.csv", "a,target,b\n1,2,3\n", false).ok());
  auto d = read_csv_dataset(dir + "/t.csv", "target");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(at::equal(d->images, at::tensor({1.f, 3.f}).view({1, 2})));
  EXPECT_EQ(d->labels.item<int64_t>(), 2);
}

TEST(CsvTableTest, MissingFileIsNotFound) {
  const std::string path = fresh_dir("missing") + "/train.csv";
  auto r = read_csv_dataset(path, "label");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(contains(r.status().message(), path));
}

TEST(CsvTableTest, HeaderErrors) {
  expect_invalid("", {"no header"});
  expect_invalid("\n  \n", {"no header"});
  expect_invalid("a,b,\"c\"\n1,2,3\n", {"no label column \"label\"", "\"a\", \"b\", \"c\""});
  expect_invalid("label,x,label\n1,2,3\n", {"\"label\" appears 2 times"});
  expect_invalid("label\n1\n", {"no feature columns"});
  expect_invalid("label,\"x\n1,2\n", {":1:", "unterminated quote"});
  expect_invalid("label,\"x\"y\n1,2\n", {":1:", "after the closing quote"});
  expect_invalid("label,x\n\n", {"no data rows"});
}

TEST(CsvTableTest, CellErrorsNameLineAndColumn) {
  expect_invalid("label,x,y\n0,1,2\n1,abc,2\n", {":3:", "column \"x\" (2)", "\"abc\" is not a number"});
  expect_invalid("label,x,y\n0,1,2\n\n1,,2\n", {":4:", "column \"x\" (2)", "empty cell"});
  expect_invalid("label,x,y\n0,1,2\n1,2\n", {":3:", "2 cells", "header has 3 columns"});
  expect_invalid("label,x,y\n0,1,2,3\n", {":2:", "4 cells", "header has 3 columns"});
  expect_invalid("label,x,y\n0,1,nan\n", {":2:", "column \"y\" (3)", "NaN or infinite"});
  expect_invalid("label,x,y\n0,-inf,1\n", {":2:", "column \"x\" (2)", "NaN or infinite"});
  expect_invalid("label,x,y\n0,1e39,1\n", {":2:", "column \"x\" (2)", "float32"});
  expect_invalid("label,x,y\n0,1e999,1\n", {":2:", "column \"x\" (2)", "out of range"});
  expect_invalid("label,x\n3.5,1\n", {":2:", "column \"label\" (1)", "label \"3.5\" is not a class index"});
  expect_invalid("label,x\n-1,1\n", {":2:", "label \"-1\" is not a class index"});
  expect_invalid("label,x\n1e9,1\n", {":2:", "label \"1e9\" is not a class index"});
  expect_invalid("label,x\n0,1\n1,2 3\n", {":3:", "\"2 3\" is not a number"});
}

}  // namespace
}  // namespace flotilla
