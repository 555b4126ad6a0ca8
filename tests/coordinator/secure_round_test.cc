// Secure aggregation in rounds, in one process: the coordinator's stage and SecureRound against
// each client's SecureAggregationMember, exchanging the protocol's message values (msg::SecAggStep)
// as the event loop would relay them. The aggregate equals FedAvg over the survivors' clipped
// updates within the stated quantisation bound, with a client dropping at each stage; below the
// threshold the round fails saying so; steps out of turn are refused.
#include "coordinator/secure_round.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <map>
#include <memory>

#include "aggregators/aggregator.h"
#include "client/secure_aggregation_member.h"
#include "coordinator/secure_aggregation_stage.h"
#include "secagg/fixed_point.h"

namespace flotilla {
namespace {

using Clock = SecureRound::Clock;

ModelState small_global() {
  ModelState g;
  g.add("fc.weight", at::linspace(-1, 1, 12, at::kFloat).reshape({3, 4}));
  g.add("fc.bias", at::zeros({3}, at::kFloat));
  g.add("bn.num_batches_tracked", at::scalar_tensor(int64_t{7}, at::kLong));
  return g;
}

// Client `id`'s trained model: the global one moved by a seeded delta of norm about `scale`.
ModelState trained_by(const ModelState& global, int id, double scale) {
  at::manual_seed(1000 + id);
  ModelState t;
  for (const auto& e : global.entries()) {
    if (!e.tensor.is_floating_point()) {
      t.add(e.name, e.tensor + 3);  // a counter: not part of the aggregate
      continue;
    }
    t.add(e.name, e.tensor + at::randn_like(e.tensor) * (scale / 4));
  }
  return t;
}

struct Outcome {
  StatusOr<ModelState> next = ModelState();
  std::map<int, std::string> dropouts;
  int fraction_bits = 0;
  int threshold = 0;
};

class SecureRoundTest : public ::testing::Test {
 protected:
  // One round among `n` clients (ids 0..n-1, client i with 100 + 10 i samples) with the given
  // dropouts (client -> stage it stops at), aggregated by FedAvg.
  Outcome run(int n, const std::map<int, int>& drops, SecAggOptions options = {}) {
    options.enabled = true;
    options.stage_timeout_s = 5;
    SecureAggregationStage stage(options, nullptr, nullptr, /*max_weight=*/1000, /*graph_key=*/42);
    std::vector<int> ids;
    for (int i = 0; i < n; ++i) ids.push_back(i);
    msg::RoundTask task;
    task.round = 1;
    task.task_id = 99;
    task.state = global_;
    auto opened = stage.open_secure_round(1, ids, global_);
    EXPECT_TRUE(opened.ok()) << opened.status();
    std::unique_ptr<SecureRound> secure = std::move(opened).value();
    task.secure_aggregation = secure->task();
    std::map<int, std::unique_ptr<SecureAggregationMember>> members;
    for (int id : ids) {
      auto drop = drops.find(id);
      members[id] = std::make_unique<SecureAggregationMember>(drop == drops.end() ? SecAggDropout{}
                                                                                  : SecAggDropout{1, drop->second});
    }
    std::deque<msg::SecAggStep> to_clients;
    const auto send = [&](msg::SecAggStep step) {
      step.task_id = task.task_id;
      step.round = task.round;
      to_clients.push_back(std::move(step));
    };
    Clock::time_point now = Clock::now();
    for (int id : ids) {
      auto keys =
          members[id]->begin(task, id, trained_by(global_, id, id == 0 ? 50.0 : 0.5), ModelState(), samples(id), {});
      EXPECT_TRUE(keys.ok()) << keys.status();
      if (*keys) {
        EXPECT_TRUE(secure->add_keys(**keys).ok());
      }
    }
    secure->start(now, send);
    while (!secure->finished()) {
      while (!to_clients.empty()) {
        msg::SecAggStep step = std::move(to_clients.front());
        to_clients.pop_front();
        auto answer = members[step.client_id]->answer(step);
        EXPECT_TRUE(answer.ok()) << answer.status();
        if (answer.ok() && *answer) {
          EXPECT_TRUE(secure->on_step(**answer, now, send).ok());
        }
      }
      now += std::chrono::seconds(6);  // whoever did not answer has dropped out
      secure->tick(now, send);
    }
    Outcome out;
    out.dropouts = secure->dropouts();
    out.fraction_bits = secure->task().fraction_bits;
    out.threshold = secure->threshold();
    auto rule = make_fedavg();
    AggregationRound round;
    round.round = 1;
    round.global = &global_;
    out.next = stage.aggregate_secure_sum(*secure, round, *rule);
    return out;
  }

  std::unique_ptr<Aggregator> make_fedavg() {
    AggregatorRegistry registry("aggregator");
    EXPECT_TRUE(register_builtin_aggregators(registry).ok());
    auto rule = registry.create("fedavg");
    EXPECT_TRUE(rule.ok()) << rule.status();
    AlgorithmSetup setup;
    setup.num_clients = 10;
    setup.initial = &global_;
    setup.trainable = {"fc.weight", "fc.bias"};
    EXPECT_TRUE((*rule)->prepare(setup).ok());
    return std::move(rule).value();
  }

  static int64_t samples(int id) { return 100 + 10 * id; }

  // FedAvg of the clients in `survivors`, each delta clipped to `clip`, in float64.
  ModelState expected(const std::vector<int>& survivors, double clip) const {
    ModelState out;
    double weight = 0;
    std::vector<at::Tensor> sums;
    for (const auto& e : global_.entries()) sums.push_back(at::zeros(e.tensor.sizes(), at::kDouble));
    for (int id : survivors) {
      const ModelState t = trained_by(global_, id, id == 0 ? 50.0 : 0.5);
      double squares = 0;
      for (size_t i = 0; i < global_.size(); ++i)
        if (global_[i].tensor.is_floating_point())
          squares += (t[i].tensor.to(at::kDouble) - global_[i].tensor.to(at::kDouble)).square().sum().item<double>();
      const double scale = std::min(1.0, clip / std::sqrt(squares));
      for (size_t i = 0; i < global_.size(); ++i)
        if (global_[i].tensor.is_floating_point())
          sums[i] += (t[i].tensor.to(at::kDouble) - global_[i].tensor.to(at::kDouble)) * scale * samples(id);
      weight += samples(id);
    }
    for (size_t i = 0; i < global_.size(); ++i)
      out.add(global_[i].name, global_[i].tensor.is_floating_point()
                                   ? (global_[i].tensor.to(at::kDouble) + sums[i] / weight)
                                   : global_[i].tensor.clone());
    return out;
  }

  // Every element within the quantisation bound of the decoded sum (n / 2^(f+1) over the weights)
  // plus the float32 rounding of the result; counters at the global model's value.
  void expect_close(const ModelState& got, const ModelState& want, int n, int fraction_bits, double weight) const {
    ASSERT_EQ(got.size(), want.size());
    const double bound = secagg::FixedPoint(fraction_bits, 1.0).max_sum_error(n) / weight;
    for (size_t i = 0; i < got.size(); ++i) {
      if (!got[i].tensor.is_floating_point()) {
        EXPECT_TRUE(at::equal(got[i].tensor, global_[i].tensor)) << got[i].name;
        continue;
      }
      const at::Tensor w = want[i].tensor;
      const double error = (got[i].tensor.to(at::kDouble) - w).abs().max().item<double>();
      const double ulp = w.abs().max().item<double>() * std::ldexp(1.0, -23);
      EXPECT_LE(error, bound + ulp) << got[i].name;
    }
  }

  double weight_of(const std::vector<int>& ids) const {
    double w = 0;
    for (int id : ids) w += samples(id);
    return w;
  }

  ModelState global_ = small_global();
};

TEST_F(SecureRoundTest, WithoutDropoutsTheAggregateIsFedAvgOfTheClippedUpdates) {
  SecAggOptions options;
  options.clip_norm = 2.0;  // client 0's update (norm ~50) is clipped, the others' (~0.5) are not
  const Outcome out = run(5, {}, options);
  ASSERT_TRUE(out.next.ok()) << out.next.status();
  EXPECT_TRUE(out.dropouts.empty());
  EXPECT_EQ(out.threshold, 2);  // half of 4 neighbours
  EXPECT_GT(out.fraction_bits, 30);
  expect_close(*out.next, expected({0, 1, 2, 3, 4}, 2.0), 5, out.fraction_bits, weight_of({0, 1, 2, 3, 4}));
}

// A client that stops before sending its keys, its shares or its masked input is left out of the
// sum; one that stops at the unmasking already sent its input and is in it.
TEST_F(SecureRoundTest, ADropoutAtAnyStageIsRecoveredWhileTheThresholdHolds) {
  const char* missed[] = {nullptr, "dropped before sharing keys", "dropped before masking", "dropped before unmasking"};
  for (int stage = 0; stage <= 3; ++stage) {
    SCOPED_TRACE("dropout at stage " + std::to_string(stage));
    const Outcome out = run(6, {{4, stage}});
    ASSERT_TRUE(out.next.ok()) << out.next.status();
    const std::vector<int> survivors =
        stage == 3 ? std::vector<int>{0, 1, 2, 3, 4, 5} : std::vector<int>{0, 1, 2, 3, 5};
    expect_close(*out.next, expected(survivors, 100.0), 6, out.fraction_bits, weight_of(survivors));
    if (stage == 0) {
      EXPECT_TRUE(out.dropouts.empty());  // it never advertised: it is no participant of the protocol
    } else {
      ASSERT_EQ(out.dropouts.count(4), 1u);
      EXPECT_EQ(out.dropouts.at(4), missed[stage]);
    }
  }
}

TEST_F(SecureRoundTest, SecAggPlusWithFourNeighboursSurvivesTwoDropouts) {
  SecAggOptions options;
  options.neighbours = 4;
  const Outcome out = run(10, {{3, 2}, {7, 1}}, options);
  ASSERT_TRUE(out.next.ok()) << out.next.status();
  const std::vector<int> survivors = {0, 1, 2, 4, 5, 6, 8, 9};
  expect_close(*out.next, expected(survivors, 100.0), 10, out.fraction_bits, weight_of(survivors));
}

TEST_F(SecureRoundTest, BelowTheThresholdTheRoundFailsSayingHowManyWereLeft) {
  SecAggOptions options;
  options.threshold = 1.0;  // t = 3 of each client's 3 neighbours: one dropout is too many
  const Outcome out = run(4, {{2, 2}}, options);
  ASSERT_FALSE(out.next.ok());
  EXPECT_NE(out.next.status().message().find("threshold 3"), std::string::npos) << out.next.status();
  const Outcome masked = run(4, {{0, 2}, {1, 2}, {2, 2}}, options);
  ASSERT_FALSE(masked.next.ok());
  EXPECT_NE(masked.next.status().message().find("1 client(s) sent a masked input, fewer than the threshold 3"),
            std::string::npos)
      << masked.next.status();
}

TEST_F(SecureRoundTest, AStepOutOfTurnIsRefusedAndRoundsOfTooFewClientsAreNotOpened) {
  SecAggOptions options;
  options.enabled = true;
  SecureAggregationStage stage(options, nullptr, nullptr, 100, 1);
  EXPECT_FALSE(stage.open_secure_round(1, {0, 1}, global_).ok());
  auto opened = stage.open_secure_round(1, {0, 1, 2}, global_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  SecureRound& secure = **opened;
  msg::SecAggStep shares;
  shares.client_id = 1;
  shares.stage = 1;  // before stage 1 began
  auto refused = secure.on_step(shares, Clock::now(), [](msg::SecAggStep) {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("stage 1 (the round is at stage 0"), std::string::npos) << refused;
  msg::SecAggStep keys;
  keys.client_id = 1;
  keys.keys = {{2, std::string(32, 'a'), std::string(32, 'b')}};  // someone else's keys
  EXPECT_FALSE(secure.add_keys(keys).ok());
}

// A process lost while a stage's messages go out drops its clients from within the send: the
// stage still reaches everyone else, and moves on only when they answer.
TEST_F(SecureRoundTest, AClientLostWhileAStageIsSentDoesNotCutTheStageShort) {
  SecAggOptions options;
  options.enabled = true;
  SecureAggregationStage stage(options, nullptr, nullptr, 1000, 3);
  auto opened = stage.open_secure_round(1, {0, 1, 2, 3}, global_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  SecureRound& secure = **opened;
  msg::RoundTask task;
  task.round = 1;
  task.task_id = 5;
  task.state = global_;
  task.secure_aggregation = secure.task();
  std::vector<std::unique_ptr<SecureAggregationMember>> members;
  for (int id = 0; id < 4; ++id) {
    members.push_back(std::make_unique<SecureAggregationMember>());
    auto keys = members.back()->begin(task, id, trained_by(global_, id, 0.5), ModelState(), samples(id), {});
    ASSERT_TRUE(keys.ok() && *keys) << keys.status();
    ASSERT_TRUE(secure.add_keys(**keys).ok());
  }
  const Clock::time_point now = Clock::now();
  std::vector<int> reached;
  SecureRound::Send send = [&](msg::SecAggStep step) {
    if (step.client_id == 0) return secure.drop(0, now, send);  // its process is gone
    reached.push_back(step.client_id);
  };
  secure.start(now, send);
  EXPECT_EQ(secure.stage(), 1);
  EXPECT_EQ(reached, (std::vector<int>{1, 2, 3}));
  ASSERT_EQ(secure.dropouts().count(0), 1u);
  EXPECT_EQ(secure.dropouts().at(0), "dropped before sharing keys");
}

}  // namespace
}  // namespace flotilla
