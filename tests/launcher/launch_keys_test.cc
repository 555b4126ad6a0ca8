#include "launcher/launch_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/launcher/launcher_harness.h"
#include "transport/allowlist.h"
#include "transport/curve_keys.h"

namespace flotilla {
namespace {

TEST(LaunchKeysTest, EachProcessMayRegisterExactlyItsRange) {
  testing::TempDir dir;
  auto ranges = split_client_ranges(10, 3);
  ASSERT_TRUE(ranges.ok());
  auto keys = make_launch_keys(dir.path(), *ranges);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->client_secret_files.size(), 3u);
  auto coordinator = read_secret_key_file(keys->coordinator_secret_file);
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  auto public_key = read_public_key(keys->coordinator_public_file);
  ASSERT_TRUE(public_key.ok());
  EXPECT_EQ(*public_key, coordinator->public_key);
  struct stat st {};
  ASSERT_EQ(::stat(keys->coordinator_secret_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto allowlist = Allowlist::load(keys->allowlist_file);
  ASSERT_TRUE(allowlist.ok()) << allowlist.status();
  ASSERT_EQ(allowlist->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    auto pair = read_secret_key_file(keys->client_secret_files[i]);
    ASSERT_TRUE(pair.ok());
    const AllowedClient* client = allowlist->find_by_key(pair->public_key);
    ASSERT_NE(client, nullptr);
    std::vector<int> ids;
    for (int id = (*ranges)[i].first; id <= (*ranges)[i].last; ++id) ids.push_back(id);
    EXPECT_EQ(client->client_ids, ids);
    EXPECT_TRUE(allowlist->check_ids(client->name, ids).ok());
    EXPECT_FALSE(allowlist->check_ids(client->name, {(*ranges)[(i + 1) % 3].first}).ok());
  }
  EXPECT_EQ(keys->client_args(1), (std::vector<std::string>{"--coordinator-key", keys->coordinator_public_file, "--key",
                                                            keys->client_secret_files[1]}));
}

}  // namespace
}  // namespace flotilla
