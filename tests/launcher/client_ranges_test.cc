#include "launcher/client_ranges.h"

#include <gtest/gtest.h>

namespace flotilla {
namespace {

std::vector<std::string> texts(int clients, int processes) {
  auto ranges = split_client_ranges(clients, processes);
  EXPECT_TRUE(ranges.ok()) << ranges.status();
  std::vector<std::string> out;
  if (ranges.ok()) {
    for (const auto& r : *ranges) out.push_back(r.to_string());
  }
  return out;
}

TEST(ClientRanges, TenOverThreeGivesTheExtraClientsToTheFirstRanges) {
  EXPECT_EQ(texts(10, 3), (std::vector<std::string>{"0-3", "4-6", "7-9"}));
}

TEST(ClientRanges, EvenSplitAndSingletons) {
  EXPECT_EQ(texts(8, 2), (std::vector<std::string>{"0-3", "4-7"}));
  EXPECT_EQ(texts(3, 3), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(texts(1, 1), (std::vector<std::string>{"0"}));
}

TEST(ClientRanges, CoverEveryClientOnceInOrder) {
  for (int n = 1; n <= 40; ++n) {
    for (int p = 1; p <= n; ++p) {
      auto ranges = split_client_ranges(n, p);
      ASSERT_TRUE(ranges.ok());
      ASSERT_EQ(static_cast<int>(ranges->size()), p);
      int next = 0, smallest = n, largest = 0;
      for (const auto& r : *ranges) {
        EXPECT_EQ(r.first, next);
        EXPECT_GE(r.size(), 1);
        smallest = std::min(smallest, r.size());
        largest = std::max(largest, r.size());
        next = r.last + 1;
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(largest - smallest, 1);
    }
  }
}

TEST(ClientRanges, RejectsMoreProcessesThanClientsAndNonPositiveCounts) {
  auto more = split_client_ranges(2, 3);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(more.status().message().find("--processes"), std::string::npos);
  EXPECT_FALSE(split_client_ranges(0, 1).ok());
  EXPECT_FALSE(split_client_ranges(4, 0).ok());
  EXPECT_FALSE(split_client_ranges(4, -1).ok());
}

}  // namespace
}  // namespace flotilla
