// Gossip-only steps on real processes. Each rank starts at the minimiser of its own least-squares
// problem (so they disagree); gossip with Metropolis weights then shrinks the consensus distance
// at least as fast as the graph's second eigenvalue modulus predicts, and keeps the average. On a
// disconnected graph the distance stays bounded away from zero, and the graph says why.
#include "collective/gossip.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "collective/consensus.h"
#include "tests/collective/rank_processes.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using testing::ipc_group;
using testing::read_floats;
using testing::run_ranks;
using testing::TempDir;
using testing::write_floats;

constexpr int kDim = 4;
constexpr int kGossipSteps = 12;

// Rank r's local minimiser argmin ||A_r x - b_r||^2 (normal equations, float64, then float32).
at::Tensor local_minimiser(int rank) {
  at::manual_seed(300 + rank);
  const at::Tensor a = at::randn({3 * kDim, kDim}, at::kDouble);
  const at::Tensor b = at::randn({3 * kDim}, at::kDouble) + rank;
  return at::linalg_solve(at::matmul(a.t(), a), at::matmul(a.t(), b)).to(at::kFloat);
}

ModelState state_of(const at::Tensor& x) {
  ModelState state;
  state.add("x", x.clone());
  return state;
}

// Runs kGossipSteps gossip steps on `graph` with N ranks; returns states[t][rank], t = 0..kGossipSteps.
std::vector<std::vector<ModelState>> run_gossip(const Graph& graph) {
  const int n = graph.size();
  TempDir dir;
  const MixingMatrix w(graph, MixingRule::kMetropolis);
  const auto outcomes = run_ranks(dir.path(), n, 30s, [&](int rank) -> std::string {
    auto transport = ZmqPeerTransport::create(rank, ipc_group(dir.path(), n));
    if (!transport.ok()) return transport.status().to_string();
    ModelState state = state_of(local_minimiser(rank));
    std::vector<at::Tensor> trajectory = {state[0].tensor.clone()};
    CollectiveOptions options;
    options.step_timeout = 10s;
    for (int t = 0; t < kGossipSteps; ++t) {
      auto stats = gossip_step(**transport, w, state, options);
      if (!stats.ok()) return stats.status().to_string();
      trajectory.push_back(state[0].tensor.clone());
    }
    write_floats(dir.file("trajectory-" + std::to_string(rank)), at::stack(trajectory));
    return "";
  });
  EXPECT_EQ(testing::failures(outcomes), "");
  std::vector<std::vector<ModelState>> states(kGossipSteps + 1, std::vector<ModelState>(n));
  for (int r = 0; r < n; ++r) {
    const at::Tensor trajectory = read_floats(dir.file("trajectory-" + std::to_string(r)));
    if (trajectory.numel() != (kGossipSteps + 1) * kDim) {
      ADD_FAILURE() << "rank " << r << " wrote no trajectory";
      return {};
    }
    for (int t = 0; t <= kGossipSteps; ++t) states[t][r] = state_of(trajectory.view({kGossipSteps + 1, kDim})[t]);
  }
  return states;
}

double distance(const std::vector<ModelState>& states) {
  auto d = consensus_distance(states);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : -1;
}

TEST(GossipTest, ConnectedGraphContractsAtLeastAsTheSecondEigenvaluePredicts) {
  auto graph = parse_graph("torus", 8);  // 2 x 4
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_TRUE(graph->is_connected());
  const double lambda = second_eigenvalue_modulus(MixingMatrix(*graph, MixingRule::kMetropolis));
  ASSERT_LT(lambda, 0.9);
  const auto states = run_gossip(*graph);
  ASSERT_FALSE(states.empty());
  const double d0 = distance(states[0]);
  ASSERT_GT(d0, 0.1);
  // With E_t = X_t - mean, ||E_t||_F <= lambda^t ||E_0||_F (W symmetric, doubly stochastic), and
  // mean-of-row-norms sits between ||E||_F / N and ||E||_F / sqrt(N): d_t / d_0 <= sqrt(N) lambda^t.
  // 5% margin, plus 1e-5 for float32 rounding of the states (about 1e-7 relative per step).
  for (int t = 1; t <= kGossipSteps; ++t) {
    const double ratio = distance(states[t]) / d0;
    EXPECT_LE(ratio, std::sqrt(8.0) * std::pow(lambda, t) * 1.05 + 1e-5) << "step " << t << " lambda " << lambda;
  }
  EXPECT_LT(distance(states[kGossipSteps]) / d0, 0.05);
  // Doubly stochastic W keeps the average.
  at::Tensor first = at::zeros({kDim}), last = at::zeros({kDim});
  for (int r = 0; r < 8; ++r) {
    first += states[0][r][0].tensor;
    last += states[kGossipSteps][r][0].tensor;
  }
  EXPECT_TRUE(at::allclose(first, last, 1e-4, 1e-4));
}

TEST(GossipTest, DisconnectedGraphDoesNotReachConsensusAndSaysWhy) {
  // Two rings of 3: {0,1,2} and {3,4,5}.
  auto graph = Graph::from_edges(6, {{0, 1}, {1, 2}, {2, 0}, {3, 4}, {4, 5}, {5, 3}});
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_FALSE(graph->is_connected());
  EXPECT_EQ(graph->components(), (std::vector<std::vector<int>>{{0, 1, 2}, {3, 4, 5}}));
  EXPECT_NE(graph->connectivity_warning().find("2 components ({0,1,2} {3,4,5})"), std::string::npos)
      << graph->connectivity_warning();
  EXPECT_NEAR(second_eigenvalue_modulus(MixingMatrix(*graph, MixingRule::kMetropolis)), 1.0, 1e-9);
  const auto states = run_gossip(*graph);
  ASSERT_FALSE(states.empty());
  // Each component reaches its own average: the distance tends to that of the component means.
  std::vector<ModelState> limit(6);
  for (int c = 0; c < 2; ++c) {
    const at::Tensor mean = (local_minimiser(3 * c) + local_minimiser(3 * c + 1) + local_minimiser(3 * c + 2)) / 3;
    for (int r = 3 * c; r < 3 * c + 3; ++r) limit[r] = state_of(mean);
  }
  const double floor = distance(limit);
  ASSERT_GT(floor, 0.1);
  EXPECT_GE(distance(states[kGossipSteps]), 0.99 * floor);
  EXPECT_NEAR(distance(states[kGossipSteps]), floor, 0.01 * floor);
}

}  // namespace
}  // namespace flotilla
