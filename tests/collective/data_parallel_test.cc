// Serverless synchronous data-parallel SGD on real processes: N ranks each hold a shard of one
// global batch; every step they back-propagate on their shard, average gradients with
// allreduce_gradients, and take the same SGD step. After K steps every rank holds bit-identical
// parameters, equal (to float rounding) to what single-process SGD reaches on the whole batch.
#include "collective/data_parallel.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <ostream>
#include <vector>

#include "tests/collective/rank_processes.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using testing::ipc_group;
using testing::read_floats;
using testing::run_ranks;
using testing::TempDir;
using testing::write_floats;

constexpr int kShard = 6;    // examples per rank
constexpr int kInputs = 5;   // features
constexpr int kOutputs = 3;  // targets
constexpr int kTrainingSteps = 15;
constexpr double kLr = 0.05;

struct Batch {
  at::Tensor x, y;
};

Batch global_batch(int ranks) {
  at::manual_seed(7);
  Batch batch{at::randn({ranks * kShard, kInputs}), at::Tensor()};
  batch.y = at::matmul(batch.x, at::randn({kInputs, kOutputs})) + 0.1 * at::randn({ranks * kShard, kOutputs});
  return batch;
}

std::vector<at::Tensor> initial_parameters() {
  at::manual_seed(11);
  return {at::randn({kOutputs, kInputs}).set_requires_grad(true), at::zeros({kOutputs}).set_requires_grad(true)};
}

// Mean squared error over the rows of `x`: the whole batch's loss is the mean of equal shards'.
void backward(const std::vector<at::Tensor>& params, const at::Tensor& x, const at::Tensor& y) {
  for (const at::Tensor& p : params) {
    if (p.grad().defined()) p.grad().zero_();
  }
  const at::Tensor loss = (at::matmul(x, params[0].t()) + params[1] - y).pow(2).mean();
  loss.backward();
}

// SGD with optional heavy-ball momentum (PyTorch's form: v = mu v + g; p -= lr v).
void sgd_step(const std::vector<at::Tensor>& params, std::vector<at::Tensor>& velocity, double momentum) {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!velocity[i].defined()) velocity[i] = at::zeros_like(params[i]);
    velocity[i].mul_(momentum).add_(params[i].grad());
    params[i].sub_(velocity[i] * kLr);
  }
}

at::Tensor flat_parameters(const std::vector<at::Tensor>& params) {
  return at::cat({params[0].detach().reshape({-1}), params[1].detach().reshape({-1})});
}

struct Case {
  int ranks;
  double momentum;
};

// Keeps gtest from printing the struct's padding bytes into the test names ctest discovers.
void PrintTo(const Case& c, std::ostream* os) { *os << c.ranks << " ranks, momentum " << c.momentum; }

class DataParallelTest : public ::testing::TestWithParam<Case> {};

TEST_P(DataParallelTest, MatchesSingleProcessSgdOnTheWholeBatch) {
  const auto [n, momentum] = GetParam();
  TempDir dir;
  const auto outcomes = run_ranks(dir.path(), n, 30s, [&](int rank) -> std::string {
    auto transport = ZmqPeerTransport::create(rank, ipc_group(dir.path(), n));
    if (!transport.ok()) return transport.status().to_string();
    const Batch batch = global_batch(n);
    const at::Tensor x = batch.x.slice(0, rank * kShard, (rank + 1) * kShard);
    const at::Tensor y = batch.y.slice(0, rank * kShard, (rank + 1) * kShard);
    std::vector<at::Tensor> params = initial_parameters();
    std::vector<at::Tensor> velocity(params.size());
    CollectiveOptions options;
    options.step_timeout = 10s;
    for (int step = 0; step < kTrainingSteps; ++step) {
      backward(params, x, y);
      auto stats = allreduce_gradients(**transport, params, options);
      if (!stats.ok()) return "step " + std::to_string(step) + ": " + stats.status().to_string();
      sgd_step(params, velocity, momentum);
    }
    write_floats(dir.file("params-" + std::to_string(rank)), flat_parameters(params));
    return "";
  });
  ASSERT_EQ(testing::failures(outcomes), "");

  const Batch batch = global_batch(n);
  std::vector<at::Tensor> params = initial_parameters();
  std::vector<at::Tensor> velocity(params.size());
  for (int step = 0; step < kTrainingSteps; ++step) {
    backward(params, batch.x, batch.y);
    sgd_step(params, velocity, momentum);
  }
  const at::Tensor expected = flat_parameters(params);
  const at::Tensor start = flat_parameters(initial_parameters());
  // The shard gradients' mean equals the batch gradient up to float32 rounding in the matmuls and
  // sums (relative ~1e-6 per step); K = 15 contracting steps keep the drift near that: 1e-4
  // absolute is ~100x the rounding and ~1000x below the distance the parameters travel.
  ASSERT_GT((expected - start).abs().max().item<double>(), 0.1) << "the model barely moved; the test would be vacuous";
  const at::Tensor rank0 = read_floats(dir.file("params-0"));
  EXPECT_TRUE(at::allclose(rank0, expected, /*rtol=*/1e-4, /*atol=*/1e-4))
      << "max difference " << (rank0 - expected).abs().max().item<double>();
  for (int r = 1; r < n; ++r) {
    EXPECT_TRUE(at::equal(read_floats(dir.file("params-" + std::to_string(r))), rank0)) << "rank " << r << " drifted";
  }
}

INSTANTIATE_TEST_SUITE_P(Sgd, DataParallelTest, ::testing::Values(Case{3, 0.0}, Case{4, 0.9}),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return "ranks" + std::to_string(param_info.param.ranks) +
                                  (param_info.param.momentum > 0 ? "_momentum" : "_plain");
                         });

}  // namespace
}  // namespace flotilla
