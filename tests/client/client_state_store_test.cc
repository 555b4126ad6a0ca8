#include "client/client_state_store.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/digest.h"
#include "tests/datasets/temp_dir.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;

ModelState state_of(double value, int64_t n = 100) {
  ModelState s;
  s.add("c_i/w", at::full({n}, value, at::kFloat));
  s.add("c_i/b", at::full({2}, -value, at::kDouble));
  return s;
}

double first_value(const ModelState& s) { return s[0].tensor[0].item<double>(); }

TEST(ClientStateStoreTest, AClientsFirstTaskFindsNoState) {
  ClientStateStore store({});
  auto s = store.load(3, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->empty());
}

// A round re-run after a coordinator resumed must see the state before that round, not the one
// its lost attempt wrote; skipped rounds read the newest earlier one.
TEST(ClientStateStoreTest, ATaskReadsTheNewestStateOfAnEarlierRound) {
  ClientStateStore store({});
  ASSERT_TRUE(store.save(0, 2, state_of(2)).ok());
  ASSERT_TRUE(store.save(0, 5, state_of(5)).ok());
  EXPECT_TRUE(store.load(0, 2)->empty());
  EXPECT_EQ(first_value(*store.load(0, 3)), 2);
  EXPECT_EQ(first_value(*store.load(0, 5)), 2) << "round 5 re-run reads round 2's state";
  EXPECT_EQ(first_value(*store.load(0, 9)), 5) << "rounds 6-8 skipped";
  EXPECT_TRUE(store.load(1, 9)->empty()) << "another client";
}

TEST(ClientStateStoreTest, KeepsTheNewestVersionsOnly) {
  ClientStateStore store({});
  for (int r = 1; r <= ClientStateStore::kVersionsKept + 1; ++r) ASSERT_TRUE(store.save(0, r, state_of(r)).ok());
  EXPECT_TRUE(store.load(0, 2)->empty()) << "round 1's state was dropped";
  EXPECT_EQ(first_value(*store.load(0, 3)), 2);
  EXPECT_EQ(store.bytes_in_memory(), ClientStateStore::kVersionsKept * state_of(0).byte_size());
}

// The caller may change what it loaded or saved in place; the stored version must not move.
TEST(ClientStateStoreTest, StoredStatesAreCopies) {
  ClientStateStore store({});
  ModelState saved = state_of(1);
  ASSERT_TRUE(store.save(0, 1, saved).ok());
  saved.mutable_entries()[0].tensor.fill_(9);
  ModelState loaded = *store.load(0, 2);
  loaded.mutable_entries()[0].tensor.fill_(7);
  EXPECT_EQ(first_value(*store.load(0, 2)), 1);
}

// 50 clients of 4 KB over a 16 KB budget: memory stays within it, the rest goes to files, and
// every state comes back bit for bit.
TEST(ClientStateStoreTest, MemoryStaysWithinTheBudgetAndSpilledStatesComeBackExactly) {
  const std::string dir = testing::fresh_dir("spill");
  ClientStateStoreOptions options;
  options.memory_budget_bytes = 16 * 1024;
  std::string private_dir;
  {
    ClientStateStore store(options);
    store.set_tag("t");
    std::vector<std::string> digests;
    for (int id = 0; id < 50; ++id) {
      ModelState s;
      s.add("w", at::randn({1000}));
      digests.push_back(model_sha256(s));
      ASSERT_TRUE(store.save(id, 1, s).ok());
      EXPECT_LE(store.bytes_in_memory(), options.memory_budget_bytes);
    }
    EXPECT_GE(store.files_written(), 45);
    for (int id = 0; id < 50; ++id) {
      auto back = store.load(id, 2);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(model_sha256(*back), digests[static_cast<size_t>(id)]) << "client " << id;
    }
    for (const auto& entry : fs::directory_iterator(fs::temp_directory_path()))
      if (entry.path().filename().string().rfind("flotilla-client-state-", 0) == 0 &&
          fs::exists(entry.path() / "client_0.round_1.state"))
        private_dir = entry.path().string();
    ASSERT_FALSE(private_dir.empty()) << "spilled files live in a private temporary folder";
  }
  EXPECT_FALSE(fs::exists(private_dir)) << "removed with the store";
}

// With a folder of its own, a restarted process continues its clients' states; a folder of
// another experiment's states is not mixed in.
TEST(ClientStateStoreTest, AUserFolderOutlivesTheProcessAndIsTagged) {
  ClientStateStoreOptions options;
  options.dir = testing::fresh_dir("persist");
  {
    ClientStateStore store(options);
    store.set_tag("mnist/scaffold");
    ASSERT_TRUE(store.save(4, 3, state_of(3)).ok());
  }
  ClientStateStore again(options);
  again.set_tag("mnist/scaffold");
  EXPECT_EQ(first_value(*again.load(4, 4)), 3);
  ClientStateStore other(options);
  other.set_tag("cifar10/feddyn");
  auto s = other.load(4, 4);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->empty());
}

TEST(ClientStateStoreTest, ACorruptFileIsDataLossNamingIt) {
  ClientStateStoreOptions options;
  options.dir = testing::fresh_dir("corrupt");
  {
    ClientStateStore store(options);
    ASSERT_TRUE(store.save(1, 1, state_of(1)).ok());
  }
  const std::string file = (fs::path(options.dir) / "client_1.round_1.state").string();
  ASSERT_TRUE(fs::exists(file));
  fs::resize_file(file, fs::file_size(file) - 5);
  ClientStateStore store(options);
  auto s = store.load(1, 2);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find("client_1.round_1.state"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace flotilla
