#include "core/id_ranges.h"

#include <gtest/gtest.h>

namespace flotilla {
namespace {

TEST(IdRangesTest, ParsesSinglesRangesAndLists) {
  EXPECT_EQ(*parse_client_ids("3"), (std::vector<int>{3}));
  EXPECT_EQ(*parse_client_ids("0-4"), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(*parse_client_ids("7,0,3-4,3"), (std::vector<int>{0, 3, 4, 7}));
}

TEST(IdRangesTest, RejectsJunkWithTheBadPiece) {
  for (const char* bad : {"", "a", "-1", "5-3", "1,,2", "1-", "2x", "0-99999999"}) {
    auto r = parse_client_ids(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_NE(parse_client_ids("1,5-3").status().message().find("'5-3'"), std::string::npos);
}

TEST(IdRangesTest, FormatsRunsAsRangesAndReadsBack) {
  EXPECT_EQ(format_client_ids({}), "");
  EXPECT_EQ(format_client_ids({4}), "4");
  EXPECT_EQ(format_client_ids({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  const std::vector<int> ids = {0, 3, 5, 6, 7, 100};
  EXPECT_EQ(*parse_client_ids(format_client_ids(ids)), ids);
}

}  // namespace
}  // namespace flotilla
