#include "coordinator/checkpoint.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "aggregators/aggregator.h"
#include "core/atomic_file.h"
#include "tests/support/text.h"

namespace flotilla {
namespace {

using test_text::slurp;

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kPrefix = 28;  // magic, version, header size, data size
constexpr size_t kDigest = 32;

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/checkpoint_test_" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Every supported dtype, 0-dim and empty tensors, a non-contiguous one, NaN payloads.
Checkpoint rich_checkpoint() {
  at::manual_seed(7);
  Checkpoint c;
  c.round = 12;
  c.config_fingerprint = "0123abcd";
  c.aggregator = "fedadam";
  c.model.add("conv.weight", at::randn({4, 2, 3, 3}));
  c.model.add("fc.weight.t", at::randn({5, 3}).t());  // non-contiguous
  c.model.add("scalar64", at::scalar_tensor(3.25, at::kDouble));
  c.model.add("half", at::randn({7}).to(at::kHalf));
  c.model.add("bf16", at::randn({2, 2}).to(at::kBFloat16));
  c.model.add("bn.num_batches_tracked", at::scalar_tensor(int64_t{41}, at::kLong));
  c.model.add("i32", at::arange(-3, 3, at::kInt));
  c.model.add("i16", at::arange(-300, 300, 100, at::kShort));
  c.model.add("i8", at::arange(-128, 128, 51, at::kChar));
  c.model.add("u8", at::arange(0, 256, 17, at::kByte));
  c.model.add("mask", at::rand({9}) > 0.5);
  c.model.add("cplx", at::randn({3}, at::kComplexFloat));
  c.model.add("empty", at::empty({0, 5}));
  at::Tensor nan = at::full({2}, std::numeric_limits<float>::quiet_NaN());
  c.model.add("nan", nan);
  c.aggregator_state.add("m/conv.weight", at::randn({4, 2, 3, 3}));
  c.aggregator_state.add("conv.weight", at::randn({1}));  // a name the model also has: other section
  c.aggregator_state.add("step", at::scalar_tensor(int64_t{12}, at::kLong));
  return c;
}

Checkpoint small_checkpoint() {
  Checkpoint c;
  c.round = 3;
  c.config_fingerprint = "f00d";
  c.aggregator = "fedavgm";
  c.model.add("w", at::arange(6, at::kFloat).reshape({2, 3}));
  c.model.add("n", at::scalar_tensor(int64_t{5}, at::kLong));
  c.aggregator_state.add("velocity/w", at::full({2, 3}, 0.5f));
  return c;
}

std::string bytes_of(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

void expect_same_state(const ModelState& want, const ModelState& got) {
  ASSERT_TRUE(want.check_same_layout(got).ok()) << want.check_same_layout(got);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(bytes_of(want[i].tensor), bytes_of(got[i].tensor)) << want[i].name;  // bit-exact, NaN included
    EXPECT_TRUE(got[i].tensor.is_contiguous());
  }
}

void expect_same(const Checkpoint& want, const Checkpoint& got) {
  EXPECT_EQ(want.round, got.round);
  EXPECT_EQ(want.config_fingerprint, got.config_fingerprint);
  EXPECT_EQ(want.aggregator, got.aggregator);
  expect_same_state(want.model, got.model);
  expect_same_state(want.aggregator_state, got.aggregator_state);
}

// The parts of a serialized checkpoint, and a way to put them back together with a valid checksum:
// what an attacker (or the fuzzer) can do, so every later check is reached.
struct Parts {
  std::string header, data;
};

Parts split(const std::string& bytes) {
  uint64_t h = 0, d = 0;
  std::memcpy(&h, bytes.data() + 12, 8);
  std::memcpy(&d, bytes.data() + 20, 8);
  return {bytes.substr(kPrefix, h), bytes.substr(kPrefix + h, d)};
}

std::string seal(const std::string& header, const std::string& data, uint32_t version = kCheckpointFormatVersion) {
  std::string out = "FLOTCKPT";
  out.append(reinterpret_cast<const char*>(&version), 4);
  const uint64_t h = header.size(), d = data.size();
  out.append(reinterpret_cast<const char*>(&h), 8);
  out.append(reinterpret_cast<const char*>(&d), 8);
  out += header;
  out += data;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(out.data(), out.size(), md, &len, EVP_sha256(), nullptr);
  out.append(reinterpret_cast<const char*>(md), len);
  return out;
}

TEST(CheckpointTest, RoundTripIsBitExact) {
  const Checkpoint c = rich_checkpoint();
  const std::string bytes = serialize_checkpoint(c);
  auto back = parse_checkpoint(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  expect_same(c, *back);
  EXPECT_EQ((*back).model.find("scalar64")->dim(), 0);
  EXPECT_EQ(serialize_checkpoint(*back), bytes) << "serialization must be deterministic";
}

TEST(CheckpointTest, EmptyAggregatorStateAndEmptyModelRoundTrip) {
  Checkpoint c;
  c.round = 0;
  c.aggregator = "median";
  auto back = parse_checkpoint(serialize_checkpoint(c));
  ASSERT_TRUE(back.ok()) << back.status();
  expect_same(c, *back);
  c.model.add("w", at::ones({3}));
  back = parse_checkpoint(serialize_checkpoint(c));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->aggregator_state.empty());
  expect_same(c, *back);
}

TEST(CheckpointTest, EveryTruncationIsRefused) {
  const std::string bytes = serialize_checkpoint(small_checkpoint());
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto parsed = parse_checkpoint(std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(parsed.ok()) << "a prefix of " << len << " of " << bytes.size() << " bytes was accepted";
    EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss) << parsed.status();
  }
  auto longer = parse_checkpoint(bytes + "x");
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(longer.status().code(), StatusCode::kDataLoss);
}

TEST(CheckpointTest, EveryFlippedByteIsRefused) {
  const std::string bytes = serialize_checkpoint(small_checkpoint());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      auto parsed = parse_checkpoint(bad);
      ASSERT_FALSE(parsed.ok()) << "byte " << i << " ^ " << int(mask) << " was accepted";
      EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss) << parsed.status();
    }
  }
}

TEST(CheckpointTest, MessagesNameTheProblem) {
  const std::string bytes = serialize_checkpoint(small_checkpoint());
  auto message = [](const std::string& b) {
    auto parsed = parse_checkpoint(b);
    EXPECT_FALSE(parsed.ok());
    return parsed.ok() ? std::string() : parsed.status().message();
  };
  EXPECT_NE(message("PK\x03\x04 a zip file, not a checkpoint at all, long enough to be one").find("bad magic"),
            std::string::npos);
  EXPECT_NE(message(bytes.substr(0, 40)).find("truncated"), std::string::npos);
  EXPECT_NE(message(bytes.substr(0, bytes.size() - 1)).find("truncated"), std::string::npos);
  std::string flipped = bytes;
  flipped[kPrefix + 3] ^= 1;
  EXPECT_NE(message(flipped).find("checksum"), std::string::npos);
  const Parts p = split(bytes);
  EXPECT_NE(message(seal(p.header, p.data, 2)).find("format version 2"), std::string::npos);
}

// Headers that pass the checksum but lie: each is refused with DataLoss naming the problem.
TEST(CheckpointTest, ForgedHeadersAreRefused) {
  const Parts p = split(serialize_checkpoint(small_checkpoint()));
  const json good = json::parse(p.header);
  ASSERT_EQ(good["tensors"].size(), 3u);
  struct Case {
    std::string expect;
    std::function<void(json&)> forge;
    std::string data_suffix = "";
  };
  const uint64_t huge = std::numeric_limits<uint64_t>::max();
  const std::vector<Case> cases = {
      {"not a JSON object", [](json& h) { h = json::array(); }},
      {"\"round\"", [](json& h) { h.erase("round"); }},
      {"\"round\" is negative", [](json& h) { h["round"] = -1; }},
      {"\"round\" is out of range", [](json& h) { h["round"] = int64_t{1} << 40; }},
      {"\"round\" is not an integer", [](json& h) { h["round"] = 1.5; }},
      {"\"aggregator\" is not a string", [](json& h) { h["aggregator"] = 3; }},
      {"byte order", [](json& h) { h["byte_order"] = "big"; }},
      {"\"tensors\"", [](json& h) { h["tensors"] = json::object(); }},
      {"is not an object", [](json& h) { h["tensors"][0] = 5; }},
      {"unknown section", [](json& h) { h["tensors"][0]["section"] = "optimizer"; }},
      {"unknown dtype", [](json& h) { h["tensors"][0]["dtype"] = "float8"; }},
      {"negative dimension",
       [](json& h) {
         h["tensors"][0]["shape"] = {-2, -3};
       }},
      {"not an integer",
       [](json& h) {
         h["tensors"][0]["shape"] = {"2", 3};
       }},
      {"no \"shape\"", [](json& h) { h["tensors"][0].erase("shape"); }},
      {"dimension out of range",
       [huge](json& h) {
         h["tensors"][0]["shape"] = {huge, 1};
       }},
      {"overflows",
       [](json& h) {
         h["tensors"][0]["shape"] = {int64_t{1} << 40, int64_t{1} << 40};
       }},
      {"overflows",
       [](json& h) {
         h["tensors"][0]["shape"] = {int64_t{1} << 40, int64_t{1} << 40, 0};
       }},
      {"byte size overflows", [](json& h) { h["tensors"][0]["shape"] = {int64_t{1} << 62}; }},
      {"dimensions", [](json& h) { h["tensors"][0]["shape"] = std::vector<int>(100, 1); }},
      {"need 28 bytes", [](json& h) { h["tensors"][0]["shape"] = {7}; }},
      {"\"size\" is out of range", [huge](json& h) { h["tensors"][0]["size"] = huge; }},
      {"\"offset\" is out of range", [](json& h) { h["tensors"][0]["offset"] = 1000; }},
      {"\"offset\" is negative", [](json& h) { h["tensors"][0]["offset"] = -8; }},
      // w [0, 24), n [24, 32), velocity/w [32, 56) of 56 bytes.
      {"runs past the end", [](json& h) { h["tensors"][2]["offset"] = 40; }},
      {"overlap", [](json& h) { h["tensors"][2]["offset"] = 8; }},
      {"overlap", [](json& h) { h["tensors"][1]["offset"] = 40; }, std::string(8, '\0')},
      {"duplicate model tensor 'w'", [](json& h) { h["tensors"][1]["name"] = "w"; }},
      {"not valid JSON", [](json& h) { h = "\x01"; }},
  };
  for (const auto& tc : cases) {
    json h = good;
    tc.forge(h);
    std::string header = tc.expect == "not valid JSON" ? "{\"round\": 3,, }" : h.dump();
    auto parsed = parse_checkpoint(seal(header, p.data + tc.data_suffix));
    ASSERT_FALSE(parsed.ok()) << "accepted a header expected to fail with: " << tc.expect;
    EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss) << parsed.status();
    EXPECT_NE(parsed.status().message().find(tc.expect), std::string::npos) << parsed.status();
  }
  // A bool tensor must hold 0 or 1 bytes: anything else is not a value torch can hold.
  Checkpoint b;
  b.model.add("mask", at::ones({4}, at::kBool));
  Parts bp = split(serialize_checkpoint(b));
  bp.data[2] = 2;
  auto parsed = parse_checkpoint(seal(bp.header, bp.data));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("bool tensor 'mask'"), std::string::npos) << parsed.status();
  // Unknown keys are ignored (room for additions within a format version).
  json extra = good;
  extra["written_by"] = "a later Flotilla";
  extra["tensors"][0]["note"] = 1;
  EXPECT_TRUE(parse_checkpoint(seal(extra.dump(), p.data)).ok());
}

// A cheap in-process fuzz: random edits of the header and data, resealed so the checksum passes,
// and random bytes; nothing may crash (run under ASan in the asan-ubsan preset).
TEST(CheckpointTest, RandomResealedEditsNeverCrash) {
  const Parts p = split(serialize_checkpoint(small_checkpoint()));
  std::mt19937 rng(1234);
  int accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string header = p.header, data = p.data;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::string& target = (rng() % 4 == 0) ? data : header;
      if (target.empty()) continue;
      const size_t at = rng() % target.size();
      switch (rng() % 4) {
        case 0:
          target[at] = static_cast<char>(rng());
          break;
        case 1:
          target[at] = "0123456789-[]{},:\"e."[rng() % 20];
          break;
        case 2:
          target.erase(at, 1 + rng() % 8);
          break;
        default:
          target.insert(at, std::to_string(static_cast<int64_t>(rng()) << (rng() % 40)));
      }
    }
    auto parsed = parse_checkpoint(seal(header, data));
    if (parsed.ok()) {
      ++accepted;
      EXPECT_EQ(serialize_checkpoint(*parsed).size() > 0, true);
    } else {
      EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss) << parsed.status();
    }
  }
  for (int iter = 0; iter < 2000; ++iter) {
    std::string junk(rng() % 200, '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    if (iter % 2) junk.replace(0, std::min<size_t>(8, junk.size()), "FLOTCKPT", std::min<size_t>(8, junk.size()));
    EXPECT_FALSE(parse_checkpoint(junk).ok());
  }
  RecordProperty("accepted_edits", accepted);
}

TEST(CheckpointTest, WriteRefusesWhatItCouldNotReadBack) {
  const std::string dir = fresh_dir("refuse");
  Checkpoint c = small_checkpoint();
  c.round = -1;
  EXPECT_EQ(write_checkpoint_file(c, dir + "/a.ckpt").code(), StatusCode::kInvalidArgument);
  c = small_checkpoint();
  c.model.add("sparse", at::ones({2, 2}).to_sparse());
  Status s = write_checkpoint_file(c, dir + "/a.ckpt");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sparse"), std::string::npos) << s;
  c = small_checkpoint();
  c.aggregator = "bad \xff utf-8";
  EXPECT_EQ(write_checkpoint_file(c, dir + "/a.ckpt").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir + "/a.ckpt"));
  EXPECT_FALSE(fs::exists(dir + "/a.ckpt.tmp"));
}

TEST(CheckpointTest, FileRoundTripIsAtomicAndCreatesTheFolder) {
  const std::string dir = fresh_dir("file");
  const std::string path = checkpoint_path(dir, 7);
  EXPECT_EQ(path, dir + "/checkpoints/round_0007.ckpt");
  EXPECT_EQ(checkpoint_path(dir, 12345), dir + "/checkpoints/round_12345.ckpt");
  const Checkpoint c = rich_checkpoint();
  ASSERT_TRUE(write_checkpoint_file(small_checkpoint(), path).ok());
  Status s = write_checkpoint_file(c, path);  // over an older one
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  auto back = read_checkpoint_file(path);
  ASSERT_TRUE(back.ok()) << back.status();
  expect_same(c, *back);

  auto missing = read_checkpoint_file(dir + "/nothing.ckpt");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  spit(path, slurp(path).substr(0, 100));
  auto torn = read_checkpoint_file(path);
  EXPECT_EQ(torn.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(torn.status().message().rfind(path, 0), 0u) << "the message starts with the path: " << torn.status();
}

// The file is streamed (no checkpoint-sized string in memory) but holds exactly the bytes
// serialize_checkpoint() makes.
TEST(CheckpointTest, StreamedFileHasTheSerializedBytes) {
  const std::string path = checkpoint_path(fresh_dir("streamed"), 3);
  const Checkpoint c = rich_checkpoint();
  ASSERT_TRUE(write_checkpoint_file(c, path).ok());
  EXPECT_EQ(slurp(path), serialize_checkpoint(c));
}

TEST(AtomicFileTest, AFailedProducerLeavesNoFileAndTheOldOneStands) {
  const std::string dir = fresh_dir("atomic");
  const std::string path = dir + "/f";
  ASSERT_TRUE(write_file_atomically(path, "old").ok());
  Status s = write_file_atomically(path, [](const ByteWriter& write) -> Status {
    RETURN_IF_ERROR(write("new", 3));
    return data_loss_error("producer gave up");
  });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s;
  EXPECT_EQ(slurp(path), "old");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  ASSERT_TRUE(write_file_atomically(path, [](const ByteWriter& write) -> Status {
                RETURN_IF_ERROR(write("ne", 2));
                return write("w!", 2);
              }).ok());
  EXPECT_EQ(slurp(path), "new!");
}

TEST(AtomicFileTest, ReadWholeFileReadsEveryByte) {
  const std::string dir = fresh_dir("read");
  std::string bytes(300000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 % 256);
  spit(dir + "/big", bytes);
  spit(dir + "/empty", "");
  auto big = read_whole_file(dir + "/big");
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(*big, bytes);
  auto empty = read_whole_file(dir + "/empty");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(read_whole_file(dir + "/none").status().code(), StatusCode::kNotFound);
}

Checkpoint at_round(int round) {
  Checkpoint c = small_checkpoint();
  c.round = round;
  return c;
}

TEST(CheckpointTest, LoadLatestFallsBackPastTornAndCorruptOnes) {
  const std::string dir = fresh_dir("latest");
  for (int r = 1; r <= 4; ++r) ASSERT_TRUE(write_checkpoint_file(at_round(r), checkpoint_path(dir, r)).ok());
  // Round 4 torn (killed mid-write without the atomic rename: a copy, a bad disk), round 3 corrupt.
  const std::string p4 = checkpoint_path(dir, 4), p3 = checkpoint_path(dir, 3);
  spit(p4, slurp(p4).substr(0, slurp(p4).size() / 2));
  std::string b3 = slurp(p3);
  b3[b3.size() / 2] ^= 0x10;
  spit(p3, b3);
  // Ignored: a leftover .tmp of a later round, the Python-readable .pt files, other names.
  spit(checkpoint_path(dir, 5) + ".tmp", serialize_checkpoint(at_round(5)).substr(0, 10));
  spit(dir + "/checkpoints/round_0006.pt", "pickle");
  spit(dir + "/checkpoints/round_x.ckpt", serialize_checkpoint(at_round(9)));
  std::vector<std::string> skipped;
  auto latest = load_latest_checkpoint(dir, &skipped);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->round, 2);
  expect_same(at_round(2), *latest);
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0].rfind(p4 + ": ", 0), 0u) << skipped[0];
  EXPECT_NE(skipped[0].find("truncated"), std::string::npos) << skipped[0];
  EXPECT_EQ(skipped[1].rfind(p3 + ": ", 0), 0u) << skipped[1];
  EXPECT_NE(skipped[1].find("checksum"), std::string::npos) << skipped[1];
  EXPECT_EQ(load_latest_checkpoint(dir, nullptr)->round, 2);  // `skipped` may be null
}

TEST(CheckpointTest, LoadLatestRefusesACheckpointUnderAnotherRoundsName) {
  const std::string dir = fresh_dir("renamed");
  ASSERT_TRUE(write_checkpoint_file(at_round(1), checkpoint_path(dir, 1)).ok());
  ASSERT_TRUE(write_checkpoint_file(at_round(7), checkpoint_path(dir, 8)).ok());
  std::vector<std::string> skipped;
  auto latest = load_latest_checkpoint(dir, &skipped);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->round, 1);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("holds round 7"), std::string::npos) << skipped[0];
}

TEST(CheckpointTest, LoadLatestIsNotFoundWithoutAValidOne) {
  const std::string dir = fresh_dir("none");
  EXPECT_EQ(load_latest_checkpoint(dir, nullptr).status().code(), StatusCode::kNotFound);  // no folder
  fs::create_directories(dir + "/checkpoints");
  EXPECT_EQ(load_latest_checkpoint(dir, nullptr).status().code(), StatusCode::kNotFound);  // empty folder
  spit(checkpoint_path(dir, 1), "garbage");
  std::vector<std::string> skipped;
  auto latest = load_latest_checkpoint(dir, &skipped);
  EXPECT_EQ(latest.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(skipped.size(), 1u);
}

TEST(CheckpointTest, PruneKeepsTheNewestAndLeavesPtFiles) {
  const std::string dir = fresh_dir("prune");
  EXPECT_TRUE(prune_checkpoints(dir, 2).ok());  // nothing to prune yet
  for (int r = 1; r <= 5; ++r) {
    ASSERT_TRUE(write_checkpoint_file(at_round(r), checkpoint_path(dir, r)).ok());
    spit(dir + "/checkpoints/round_000" + std::to_string(r) + ".pt", "pickle");
  }
  spit(dir + "/checkpoints/round_10000.ckpt", "newest by round, not by name");
  Status s = prune_checkpoints(dir, 3);
  ASSERT_TRUE(s.ok()) << s;
  for (int r = 1; r <= 5; ++r) {
    EXPECT_EQ(fs::exists(checkpoint_path(dir, r)), r >= 4) << r;
    EXPECT_TRUE(fs::exists(dir + "/checkpoints/round_000" + std::to_string(r) + ".pt")) << r;
  }
  EXPECT_TRUE(fs::exists(checkpoint_path(dir, 10000)));
  EXPECT_EQ(prune_checkpoints(dir, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(fs::exists(checkpoint_path(dir, 4)));
}

// What the coordinator does on resume, for each rule: the model and the rule's state go through a
// checkpoint file, and a fresh instance carries on bit-identically with the one that never stopped.
TEST(CheckpointTest, AggregatorStateThroughAFileResumesBitIdentically) {
  AggregatorRegistry registry("aggregator");
  ASSERT_TRUE(register_builtin_aggregators(registry).ok());
  const std::string dir = fresh_dir("resume");
  auto round_of = [](int round) {
    std::vector<ClientUpdate> ups;
    for (int k = 0; k < 6; ++k) {
      at::manual_seed(100 * round + k);
      ClientUpdate u{k, 3 + k, ModelState(), 0.0};
      u.state.add("w", at::randn({3, 4}));
      u.state.add("b", at::randn({4}, at::kDouble));
      u.state.add("num_batches_tracked", at::scalar_tensor(int64_t{round}, at::kLong));
      ups.push_back(std::move(u));
    }
    return ups;
  };
  for (const std::string& name : registry.names()) {
    auto running = std::move(registry.create(name)).value();
    ModelState global = round_of(0)[0].state;
    for (int round = 1; round <= 3; ++round) {
      auto out = running->aggregate({round, &global, round_of(round), {}});
      ASSERT_TRUE(out.ok()) << name << ": " << out.status();
      global = *out;
    }
    Checkpoint c{3, "fingerprint", name, global, running->save_state()};
    ASSERT_TRUE(write_checkpoint_file(c, checkpoint_path(dir, 3)).ok());

    auto loaded = load_latest_checkpoint(dir, nullptr);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    auto resumed = std::move(registry.create(loaded->aggregator)).value();
    Status restored = resumed->restore_state(loaded->aggregator_state);
    ASSERT_TRUE(restored.ok()) << name << ": " << restored;
    ModelState g_running = global, g_resumed = loaded->model;
    for (int round = 4; round <= 6; ++round) {
      auto a = running->aggregate({round, &g_running, round_of(round), {}});
      auto b = resumed->aggregate({round, &g_resumed, round_of(round), {}});
      ASSERT_TRUE(a.ok() && b.ok()) << name << ": " << a.status() << b.status();
      for (size_t i = 0; i < a->size(); ++i)
        EXPECT_TRUE(at::equal((*a)[i].tensor, (*b)[i].tensor)) << name << " round " << round << " " << (*a)[i].name;
      g_running = *a;
      g_resumed = *b;
    }
  }
}

}  // namespace
}  // namespace flotilla
