// The update a client masks (secagg/update_vector.h) and the options of --secagg: layout on the
// wire, clipping and weighting, the bound a client cannot exceed, the decoded sum, refusals.
#include "secagg/update_vector.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "secagg/fixed_point.h"
#include "secagg/secagg_options.h"

namespace flotilla::secagg {
namespace {

ModelState global_model() {
  ModelState g;
  g.add("w", at::zeros({2, 2}, at::kFloat));
  g.add("count", at::scalar_tensor(int64_t{3}, at::kLong));
  g.add("b", at::zeros({2}, at::kFloat));
  return g;
}

msg::SecureAggregationTask task_for(double clip, double bound) {
  msg::SecureAggregationTask t;
  t.participants = {0, 1, 2};
  t.threshold = 2;
  t.clip_norm = clip;
  t.bound = bound;
  t.fraction_bits = 20;
  return t;
}

TEST(UpdateVectorTest, TheLayoutIsTheFloatingEntriesThenTheTailAndRoundTripsOnTheWire) {
  ModelState extras;
  extras.add("delta_c.w", at::zeros({3}, at::kFloat));
  const UpdateLayout layout(global_model(), extras, /*report_unclipped=*/true);
  EXPECT_EQ(layout.body(), 6);
  EXPECT_EQ(layout.extras(), 3);
  EXPECT_EQ(layout.length(), 11);
  std::vector<uint64_t> words(11);
  for (size_t i = 0; i < words.size(); ++i) words[i] = ~uint64_t{0} - i;
  const ModelState wire = layout.to_state(words);
  ASSERT_EQ(wire.size(), 4u);  // w, b, extra/delta_c.w, secagg/tail: the counter is not in it
  EXPECT_EQ(wire[2].name, "extra/delta_c.w");
  auto back = layout.from_state(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, words);
  ModelState wrong = wire;
  wrong.mutable_entries()[1].tensor = at::zeros({3}, at::kLong);
  auto refused = layout.from_state(wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("expected int64 'b' with 2"), std::string::npos) << refused.status();
}

TEST(UpdateVectorTest, AnUpdateIsClippedWeightedAndDecodedBack) {
  const ModelState global = global_model();
  ModelState trained = global.clone();
  trained.mutable_entries()[0].tensor = at::full({2, 2}, 3.0f);  // norm 6 over w, b unchanged
  trained.mutable_entries()[1].tensor = at::scalar_tensor(int64_t{9}, at::kLong);
  const msg::SecureAggregationTask task = task_for(/*clip=*/1.5, /*bound=*/100);
  auto encoded = encode_update(global, trained, ModelState(), /*num_samples=*/10, task, 0);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_DOUBLE_EQ(encoded->norm, 6.0);
  EXPECT_FALSE(encoded->within_clip_norm);
  const UpdateLayout layout(global, ModelState(), false);
  auto sum = decode_sum(global, ModelState(), layout, task.fraction_bits, task.bound, encoded->words);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_DOUBLE_EQ(sum->weight, 10.0);
  // Clipped to 1.5 (each of 4 elements 0.75), times the weight 10.
  EXPECT_TRUE(at::allclose(sum->weighted_delta[0].tensor, at::full({2, 2}, 7.5, at::kDouble), 0, 1e-5));
  EXPECT_EQ(sum->weighted_delta[1].tensor.sum().item<double>(), 0.0);  // the counter: nothing
}

TEST(UpdateVectorTest, AWeightBeyondTheBoundIsRefusedNamingTheRange) {
  const ModelState global = global_model();
  const msg::SecureAggregationTask task = task_for(1.0, /*bound=*/50);
  auto refused = encode_update(global, global.clone(), ModelState(), /*num_samples=*/60, task, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("outside the secure aggregation's range"), std::string::npos)
      << refused.status();
  ModelState nan = global.clone();
  nan.mutable_entries()[2].tensor = at::full({2}, std::nanf(""));
  EXPECT_FALSE(encode_update(global, nan, ModelState(), 1, task, 0).ok());
}

// Extras (SCAFFOLD's delta_c) go unweighted after the delta, within their own bound; a task that
// takes none refuses an update that carries some.
TEST(UpdateVectorTest, ExtrasAreSummedUnweightedWithinTheirBound) {
  const ModelState global = global_model();
  ModelState extras;
  extras.add("delta_c", at::full({2}, -2.5f));
  msg::SecureAggregationTask task = task_for(1.0, 100);
  auto refused = encode_update(global, global.clone(), extras, 10, task, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("takes none"), std::string::npos) << refused.status();
  task.extras_bound = 2.0;
  auto beyond = encode_update(global, global.clone(), extras, 10, task, 0);
  ASSERT_FALSE(beyond.ok());
  EXPECT_NE(beyond.status().message().find("extras bound 2"), std::string::npos) << beyond.status();
  task.extras_bound = 3.0;
  auto encoded = encode_update(global, global.clone(), extras, 10, task, 0);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  const UpdateLayout layout(global, extras, false);
  auto sum = decode_sum(global, extras, layout, task.fraction_bits, task.bound, encoded->words);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_TRUE(at::allclose(sum->extras[0].tensor, at::full({2}, -2.5, at::kDouble)));  // not times the weight
  EXPECT_DOUBLE_EQ(sum->weight, 10.0);
}

TEST(SecAggOptionsTest, DefaultsAndRefusalsNameTheKey) {
  auto off = secagg_options_from("off", Options());
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled);
  auto on = secagg_options_from("on", Options{{"neighbours", "6"}, {"threshold", "0.6"}});
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_EQ(on->neighbours, 6);
  EXPECT_DOUBLE_EQ(on->threshold, 0.6);
  EXPECT_DOUBLE_EQ(on->clip_norm, 100.0);
  auto again = secagg_options_from("on", Options(to_map(*on)));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->neighbours, 6);
  for (const auto& [key, value, expected] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"threshold", "0", "threshold must be in (0, 1]"},
           {"neighbours", "1", "neighbours must be 0 or 2..65536"},
           {"clip_norm", "-1", "clip_norm must be > 0"},
           {"stage_timeout", "0", "stage_timeout must be > 0"},
           {"extras_bound", "0", "extras_bound must be > 0"},
           {"colour", "red", "colour"}}) {
    auto refused = secagg_options_from("on", Options{{key, value}});
    ASSERT_FALSE(refused.ok()) << key;
    EXPECT_NE(refused.status().message().find(expected), std::string::npos) << refused.status();
  }
  EXPECT_FALSE(secagg_options_from("maybe", Options()).ok());
  EXPECT_FALSE(secagg_options_from("off", Options{{"neighbours", "4"}}).ok());
}

}  // namespace
}  // namespace flotilla::secagg
