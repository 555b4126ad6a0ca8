#include "coordinator/divergence.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

namespace flotilla {
namespace {

ModelState state(std::vector<float> w, int64_t counter = 0) {
  ModelState s;
  s.add("w", at::tensor(w));
  s.add("num_batches_tracked", at::tensor(counter));  // ignored: not floating point
  return s;
}

TEST(DivergenceTest, MatchesHandComputedValues) {
  // prev = (3, 4): |prev| = 5. client = (3, 7): u_k = (0, 3). new = (6, 4): u = (3, 0), |new| = sqrt(52).
  const Divergence d = client_divergence(state({3, 7}, 5), state({3, 4}, 1), state({6, 4}, 9));
  EXPECT_DOUBLE_EQ(d.to_previous, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(d.to_new, std::sqrt(9.0 + 9.0) / std::sqrt(52.0));
  EXPECT_DOUBLE_EQ(d.cosine, 0.0);  // orthogonal updates
}

TEST(DivergenceTest, AlignedUpdateHasCosineOne) {
  const Divergence d = client_divergence(state({2, 2}), state({1, 1}), state({1.5f, 1.5f}));
  EXPECT_NEAR(d.cosine, 1.0, 1e-12);
  EXPECT_NEAR(d.to_new, std::sqrt(0.5) / std::sqrt(4.5), 1e-7);
}

TEST(DivergenceTest, ZeroUpdateGivesNaNCosine) {
  const Divergence d = client_divergence(state({1, 1}), state({1, 1}), state({2, 2}));
  EXPECT_EQ(d.to_previous, 0.0);
  EXPECT_TRUE(std::isnan(d.cosine));
}

ModelState random_model(int64_t n, uint64_t seed, double scale = 1.0) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  ModelState s;
  s.add("a", at::randn({n / 2}, gen) * scale);
  s.add("num_batches_tracked", at::scalar_tensor(int64_t{3}, at::kLong));
  s.add("b", at::randn({n - n / 2}, gen).to(at::kDouble) * scale);
  return s;
}

ModelState plus(const ModelState& a, const ModelState& b) {
  ModelState out;
  for (size_t i = 0; i < a.size(); ++i)
    out.add(a[i].name, a[i].tensor.is_floating_point() ? a[i].tensor + b[i].tensor : a[i].tensor.clone());
  return out;
}

// Small models are measured exactly: the tracker agrees with client_divergence to rounding.
TEST(DivergenceTrackerTest, SmallModelsAreMeasuredExactly) {
  const ModelState previous = random_model(1000, 1);
  DivergenceTracker tracker(previous);
  EXPECT_TRUE(tracker.exact());
  std::vector<ModelState> clients;
  for (int k = 0; k < 3; ++k) {
    clients.push_back(plus(previous, random_model(1000, 10 + k, 0.1)));
    tracker.observe(k, clients.back());
  }
  const ModelState next = plus(previous, random_model(1000, 20, 0.05));
  const auto got = tracker.finish(next);
  ASSERT_EQ(got.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    const Divergence want = client_divergence(clients[k], previous, next);
    EXPECT_NEAR(got.at(k).to_previous, want.to_previous, 1e-9);
    EXPECT_NEAR(got.at(k).to_new, want.to_new, 1e-9);
    EXPECT_NEAR(got.at(k).cosine, want.cosine, 1e-9);
  }
}

// Larger models are sketched: to_previous stays exact, the other two are close (the sketch's
// error on the cosine is about 1/sqrt(kSketchSize) = 0.8%), and an update equal to the
// aggregate's still reads cosine 1 and distance 0.
TEST(DivergenceTrackerTest, LargeModelsAreSketchedClosely) {
  const int64_t n = 20 * DivergenceTracker::kSketchSize;
  const ModelState previous = random_model(n, 2);
  DivergenceTracker tracker(previous);
  EXPECT_FALSE(tracker.exact());
  const ModelState shared = random_model(n, 30, 0.1);
  std::vector<ModelState> clients;
  for (int k = 0; k < 3; ++k) {
    // Partly aligned with the aggregate (a shared component), partly the client's own.
    clients.push_back(plus(plus(previous, shared), random_model(n, 40 + k, 0.1 * k)));
    tracker.observe(k, clients.back());
  }
  const ModelState next = plus(previous, shared);
  const auto got = tracker.finish(next);
  for (int k = 0; k < 3; ++k) {
    const Divergence want = client_divergence(clients[k], previous, next);
    EXPECT_NEAR(got.at(k).to_previous, want.to_previous, 1e-9 * want.to_previous);
    EXPECT_NEAR(got.at(k).cosine, want.cosine, 0.04) << k;
    EXPECT_NEAR(got.at(k).to_new, want.to_new, 0.04 * want.to_previous + 1e-9) << k;
  }
  EXPECT_NEAR(got.at(0).cosine, 1.0, 1e-9);
  EXPECT_NEAR(got.at(0).to_new, 0.0, 1e-6);
}

}  // namespace
}  // namespace flotilla
