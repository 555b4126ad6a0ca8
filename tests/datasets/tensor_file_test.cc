#include "datasets/tensor_file.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>

#include "datasets/file_bytes.h"
#include "temp_dir.h"
#include "tests/support/text.h"

namespace flotilla {
namespace {

using test_text::contains;

using flotilla::testing::fresh_dir;

// A torch.save-format file holding any dict, for the files write_tensor_file cannot make.
void write_dict(const std::string& path, const std::vector<std::pair<std::string, c10::IValue>>& entries) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  for (const auto& [key, value] : entries) dict.insert(key, value);
  const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Expects `r` to fail with `code` and a message naming `path` and containing every part.
template <typename T>
void expect_error(const StatusOr<T>& r, StatusCode code, const std::string& path,
                  const std::vector<std::string>& parts) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status();
  EXPECT_TRUE(contains(r.status().message(), path)) << r.status();
  for (const auto& part : parts)
    EXPECT_TRUE(contains(r.status().message(), part)) << "no '" << part << "' in " << r.status();
}

TEST(TensorFileTest, RoundTripsUint8Images) {
  const std::string path = fresh_dir("u8") + "/train.pt";
  const at::Tensor x = at::arange(5 * 3 * 4 * 4, at::kLong).remainder(256).to(at::kByte).view({5, 3, 4, 4});
  const at::Tensor y = at::tensor({0, 4, 2, 1, 0}, at::kLong);
  ASSERT_TRUE(write_tensor_file(path, x, y).ok());
  auto d = read_tensor_file(path);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->images.scalar_type(), at::kByte);
  EXPECT_TRUE(at::equal(d->images, x));
  EXPECT_TRUE(at::equal(d->labels, y));
  EXPECT_EQ(d->num_classes, 5);  // max label + 1
  EXPECT_TRUE(d->mean.empty());
  EXPECT_TRUE(d->std.empty());
  // No temporary left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(TensorFileTest, RoundTripsFloatFeaturesAndConvertsIntegerLabels) {
  const std::string path = fresh_dir("f32") + "/train.pt";
  const at::Tensor x = at::randn({6, 3});
  ASSERT_TRUE(write_tensor_file(path, x, at::tensor({1, 0, 1, 1, 0, 1}, at::kInt)).ok());
  auto d = read_tensor_file(path);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->images.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(d->images, x));
  EXPECT_EQ(d->labels.scalar_type(), at::kLong);
  EXPECT_EQ(d->num_classes, 2);
}

TEST(TensorFileTest, HalfAndDoubleBecomeFloat32) {
  const std::string dir = fresh_dir("conv");
  const at::Tensor x = at::randn({4, 2, 3});
  for (const at::ScalarType type : {at::kHalf, at::kDouble}) {
    const std::string path = dir + "/" + c10::toString(type) + ".pt";
    ASSERT_TRUE(write_tensor_file(path, x.to(type), at::zeros({4}, at::kByte)).ok());
    auto d = read_tensor_file(path);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->images.scalar_type(), at::kFloat);
    EXPECT_EQ(d->images.sizes(), x.sizes());  // float rank 3 stays as it is
    EXPECT_TRUE(at::equal(d->images, x.to(type).to(at::kFloat)));
    EXPECT_EQ(d->num_classes, 2);  // all labels 0: still at least 2
  }
}

TEST(TensorFileTest, GreyImageStackGetsAChannelDimension) {
  const std::string path = fresh_dir("grey") + "/train.pt";
  const at::Tensor x = at::arange(2 * 28 * 28, at::kLong).remainder(256).to(at::kByte).view({2, 28, 28});
  ASSERT_TRUE(write_tensor_file(path, x, at::tensor({3, 1}, at::kLong)).ok());
  auto d = read_tensor_file(path);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->images.sizes(), (at::IntArrayRef{2, 1, 28, 28}));
  EXPECT_TRUE(at::equal(d->images.squeeze(1), x));
}

TEST(TensorFileTest, NumClassesKeyWinsAndBoundsLabels) {
  const std::string dir = fresh_dir("nc");
  const at::Tensor x = at::zeros({3, 4});
  const at::Tensor y = at::tensor({0, 1, 2}, at::kLong);
  ASSERT_TRUE(write_tensor_file(dir + "/int.pt", x, y, /*num_classes=*/62).ok());
  auto d = read_tensor_file(dir + "/int.pt");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->num_classes, 62);

  write_dict(dir + "/tensor.pt", {{"x", x}, {"y", y}, {"num_classes", at::scalar_tensor(10, at::kLong)}});
  d = read_tensor_file(dir + "/tensor.pt");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->num_classes, 10);

  write_dict(dir + "/small.pt", {{"x", x}, {"y", y}, {"num_classes", int64_t{2}}});
  expect_error(read_tensor_file(dir + "/small.pt"), StatusCode::kInvalidArgument, dir + "/small.pt",
               {"label 2", "sample 2", "num_classes = 2"});

  write_dict(dir + "/bad.pt", {{"x", x}, {"y", y}, {"num_classes", std::string("ten")}});
  expect_error(read_tensor_file(dir + "/bad.pt"), StatusCode::kInvalidArgument, dir + "/bad.pt", {"num_classes"});
}

TEST(TensorFileTest, MissingFileIsNotFound) {
  const std::string path = fresh_dir("missing") + "/train.pt";
  expect_error(read_tensor_file(path), StatusCode::kNotFound, path, {"no such file"});
}

TEST(TensorFileTest, OtherFilesAreDataLoss) {
  const std::string dir = fresh_dir("other");
  ASSERT_TRUE(write_file_bytes(dir + "/text.pt", "x,y\n1,2\n", false).ok());
  expect_error(read_tensor_file(dir + "/text.pt"), StatusCode::kDataLoss, dir + "/text.pt", {"not a torch.save file"});
  // The legacy format starts with a pickle protocol opcode.
  ASSERT_TRUE(write_file_bytes(dir + "/legacy.pt", std::string("\x80\x02\x8a\x0a", 4) + "junk", false).ok());
  expect_error(read_tensor_file(dir + "/legacy.pt"), StatusCode::kDataLoss, dir + "/legacy.pt", {"legacy"});
  // A zip archive cut short.
  ASSERT_TRUE(write_tensor_file(dir + "/whole.pt", at::zeros({2, 2}), at::zeros({2}, at::kLong)).ok());
  auto bytes = read_file_bytes(dir + "/whole.pt");
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(write_file_bytes(dir + "/cut.pt", bytes->substr(0, bytes->size() / 2), false).ok());
  expect_error(read_tensor_file(dir + "/cut.pt"), StatusCode::kDataLoss, dir + "/cut.pt", {"not a readable"});
}

TEST(TensorFileTest, NotADictIsDataLoss) {
  const std::string path = fresh_dir("tensor") + "/train.pt";
  const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(at::zeros({2, 2})));
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  expect_error(read_tensor_file(path), StatusCode::kDataLoss, path, {"not a dict", "Float tensor of shape [2, 2]"});
}

TEST(TensorFileTest, MissingKeyIsDataLossListingTheKeys) {
  const std::string dir = fresh_dir("keys");
  write_dict(dir + "/noy.pt", {{"x", at::zeros({2, 2})}, {"labels", at::zeros({2}, at::kLong)}});
  expect_error(read_tensor_file(dir + "/noy.pt"), StatusCode::kDataLoss, dir + "/noy.pt",
               {"no \"y\" key", "\"x\", \"labels\""});
  write_dict(dir + "/nox.pt", {{"y", at::zeros({2}, at::kLong)}});
  expect_error(read_tensor_file(dir + "/nox.pt"), StatusCode::kDataLoss, dir + "/nox.pt", {"no \"x\" key", "\"y\""});
}

TEST(TensorFileTest, WrongDtypesAndShapesAreInvalidArgument) {
  const std::string dir = fresh_dir("dtype");
  const at::Tensor y2 = at::zeros({2}, at::kLong);
  struct Case {
    std::string name;
    at::Tensor x, y;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"int_x", at::zeros({2, 3}, at::kLong), y2, {"\"x\" has dtype Long", "uint8 or float"}},
      {"bool_x", at::zeros({2, 3}, at::kBool), y2, {"\"x\" has dtype Bool"}},
      {"float_y", at::zeros({2, 3}), at::zeros({2}), {"\"y\" has dtype Float", "integer"}},
      {"rank1_x", at::zeros({2}), y2, {"rank >= 2", "[2]"}},
      {"rank2_y", at::zeros({2, 3}), at::zeros({2, 1}, at::kLong), {"\"y\" has shape [2, 1]"}},
      {"counts", at::zeros({3, 3}), y2, {"3 samples", "2 labels"}},
      {"empty", at::zeros({0, 3}), at::zeros({0}, at::kLong), {"no samples"}},
      {"negative", at::zeros({2, 3}), at::tensor({0, -1}, at::kLong), {"label -1 of sample 1", "negative"}},
      {"huge", at::zeros({2, 3}), at::tensor({int64_t{0}, int64_t{1} << 40}, at::kLong), {"sample 1", "num_classes"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir + "/" + c.name + ".pt";
    ASSERT_TRUE(write_tensor_file(path, c.x, c.y).ok());
    expect_error(read_tensor_file(path), StatusCode::kInvalidArgument, path, c.parts);
  }
}

TEST(TensorFileTest, NonFiniteFeaturesNameTheFirstBadSample) {
  const std::string dir = fresh_dir("nan");
  for (const double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL, 1e300}) {
    at::Tensor x = at::zeros({5, 2, 2}, at::kDouble);
    x[3][1][0] = bad;
    x[4][0][0] = bad;
    const std::string path = dir + "/bad.pt";
    ASSERT_TRUE(write_tensor_file(path, x, at::zeros({5}, at::kLong)).ok());
    expect_error(read_tensor_file(path), StatusCode::kInvalidArgument, path, {"sample 3", "NaN or infinite"});
  }
}

TEST(TensorFileTest, WriterReplacesTheFileAndCompactsViews) {
  const std::string path = fresh_dir("replace") + "/train.pt";
  const at::Tensor big = at::arange(1000 * 4, at::kFloat).view({1000, 4});
  ASSERT_TRUE(write_tensor_file(path, big, at::zeros({1000}, at::kLong)).ok());
  const auto big_size = std::filesystem::file_size(path);
  // A two-row view of the big tensor: the file holds the two rows, not the whole storage.
  ASSERT_TRUE(write_tensor_file(path, big.narrow(0, 10, 2), at::zeros({2}, at::kLong)).ok());
  EXPECT_LT(std::filesystem::file_size(path) * 10, big_size);
  auto d = read_tensor_file(path);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(at::equal(d->images, big.narrow(0, 10, 2)));
  EXPECT_FALSE(write_tensor_file(path + "/no/such/dir.pt", big, at::zeros({1000}, at::kLong)).ok());
  EXPECT_FALSE(write_tensor_file(path, at::Tensor(), at::zeros({1}, at::kLong)).ok());
}

TEST(TensorFileTest, ParserNeverThrowsOnGarbage) {
  // Zip-looking garbage of every length up to a small header, and a corrupted real file.
  std::vector<char> bytes = {'P', 'K', 3, 4};
  for (int i = 0; i < 64; ++i) {
    bytes.push_back(static_cast<char>(i * 37));
    EXPECT_FALSE(parse_tensor_file(bytes, "garbage").ok());
  }
  const std::string path = fresh_dir("garbage") + "/train.pt";
  ASSERT_TRUE(write_tensor_file(path, at::zeros({2, 2}), at::zeros({2}, at::kLong)).ok());
  auto good = read_file_bytes(path);
  ASSERT_TRUE(good.ok());
  for (size_t at_byte = 40; at_byte < good->size(); at_byte += 97) {
    std::vector<char> corrupt(good->begin(), good->end());
    corrupt[at_byte] = static_cast<char>(corrupt[at_byte] ^ 0x5a);
    (void)parse_tensor_file(corrupt, "corrupt");  // any Status; no exception, no crash
  }
}

// Python's torch.save and torch.load against ours, where python3 has torch (CI does not).
TEST(TensorFileTest, InteroperatesWithPythonTorch) {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with torch is not installed";
  }
  const std::string dir = fresh_dir("python");
  const std::string from_python = dir + "/from_python.pt";
  const std::string save =
      "/usr/bin/python3 -c 'import torch; torch.save({\"x\": torch.arange(24, "
      "dtype=torch.uint8).reshape(2,1,3,4), \"y\": torch.tensor([0, 3])}, \"" +
      from_python + "\")'";
  ASSERT_EQ(std::system(save.c_str()), 0) << save;
  auto d = read_tensor_file(from_python);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->images.scalar_type(), at::kByte);
  EXPECT_TRUE(at::equal(d->images, at::arange(24, at::kLong).to(at::kByte).view({2, 1, 3, 4})));
  EXPECT_TRUE(at::equal(d->labels, at::tensor({0, 3}, at::kLong)));
  EXPECT_EQ(d->num_classes, 4);

  const std::string from_cpp = dir + "/from_cpp.pt";
  ASSERT_TRUE(write_tensor_file(from_cpp, at::arange(6, at::kFloat).view({2, 3}).div(4), at::tensor({1, 0}, at::kLong),
                                /*num_classes=*/7)
                  .ok());
  const std::string load = "/usr/bin/python3 -c 'import torch; d = torch.load(\"" + from_cpp +
                           "\"); assert sorted(d.keys()) == [\"num_classes\", \"x\", \"y\"], d.keys(); "
                           "assert torch.equal(d[\"x\"], torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4); "
                           "assert torch.equal(d[\"y\"], torch.tensor([1, 0])); assert d[\"num_classes\"] == 7'";
  EXPECT_EQ(std::system(load.c_str()), 0) << load;

  // Two ways Python users get it wrong: numpy arrays, and the pre-1.6 format.
  const std::string numpy = dir + "/numpy.pt", legacy = dir + "/legacy.pt";
  const std::string save_wrong =
      "/usr/bin/python3 -c 'import torch, numpy; torch.save({\"x\": numpy.zeros((2, 2)), "
      "\"y\": numpy.array([0, 1])}, \"" +
      numpy +
      "\"); torch.save({\"x\": torch.zeros(2, 2), "
      "\"y\": torch.tensor([0, 1])}, \"" +
      legacy + "\", _use_new_zipfile_serialization=False)'";
  ASSERT_EQ(std::system(save_wrong.c_str()), 0) << save_wrong;
  expect_error(read_tensor_file(numpy), StatusCode::kDataLoss, numpy, {"numpy", "torch.from_numpy"});
  expect_error(read_tensor_file(legacy), StatusCode::kDataLoss, legacy, {"legacy format"});
}

}  // namespace
}  // namespace flotilla
