// Consensus distance on states whose answer is known by hand.
#include "collective/consensus.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

namespace flotilla {
namespace {

ModelState state(std::vector<float> a, float b) {
  ModelState s;
  s.add("a", at::tensor(a));
  s.add("b", at::tensor({b}));
  return s;
}

TEST(ConsensusTest, MeanDistanceToTheAverageOverAllTensors) {
  // Around the mean (1, 1 | 0) the offsets are (3, 0 | 4) and (-3, 0 | -4): norm 5 each, across
  // both tensors.
  const std::vector<ModelState> states = {state({4, 1}, 4), state({-2, 1}, -4)};
  auto d = consensus_distance(states);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_DOUBLE_EQ(*d, 5.0);
  const std::vector<ModelState> same = {state({1, 2}, 3), state({1, 2}, 3), state({1, 2}, 3)};
  EXPECT_DOUBLE_EQ(*consensus_distance(same), 0.0);
}

TEST(ConsensusTest, RefusesEmptyAndMismatchedInput) {
  EXPECT_EQ(consensus_distance({}).status().code(), StatusCode::kInvalidArgument);
  ModelState other;
  other.add("a", at::zeros({3}));
  const std::vector<ModelState> mixed = {state({1, 2}, 3), other};
  EXPECT_EQ(consensus_distance(mixed).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flotilla
