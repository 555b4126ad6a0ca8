#include "secagg/neighbours.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace flotilla::secagg {
namespace {

std::vector<int> ids_upto(int n) {
  std::vector<int> ids(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = 3 * i + 1;  // not 0..n-1
  return ids;
}

TEST(NeighboursTest, SmallKOnManyClientsIsRegularAndSymmetric) {
  const auto graph = neighbour_graph(ids_upto(100), 8, 42);
  ASSERT_EQ(graph.size(), 100u);
  for (const auto& [id, mine] : graph) {
    EXPECT_EQ(mine.size(), 8u) << id;
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
    EXPECT_EQ(std::count(mine.begin(), mine.end(), id), 0);
    for (int v : mine) {
      const auto& theirs = graph.at(v);
      EXPECT_TRUE(std::binary_search(theirs.begin(), theirs.end(), id)) << id << " - " << v;
    }
  }
  EXPECT_EQ(graph, neighbour_graph(ids_upto(100), 8, 42));  // the seed decides
  EXPECT_NE(graph, neighbour_graph(ids_upto(100), 8, 43));
}

TEST(NeighboursTest, LargeKIsTheCompleteGraph) {
  for (int k : {4, 5, 100}) {
    const auto graph = neighbour_graph(ids_upto(5), k, 1);
    for (const auto& [id, mine] : graph) EXPECT_EQ(mine.size(), 4u) << "k " << k;
  }
  EXPECT_EQ(neighbour_graph(ids_upto(9), 3, 1).begin()->second.size(), 4u);  // odd k rounds up
}

}  // namespace
}  // namespace flotilla::secagg
