// Every registered aggregator, the server halves of the built-in algorithms included, passes this
// contract: one client gives that client's model,
// identical clients give that model, the order in which updates arrive does not matter
// (the coordinator sorts by client id, but a rule must not depend on weights' positions), and a
// fresh instance restored from save_state() continues bit-identically (checkpoint and resume).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "aggregators/aggregator.h"
#include "algorithms/builtin.h"

namespace flotilla {
namespace {

AggregatorRegistry& registry() {
  static AggregatorRegistry* r = [] {
    auto* reg = new AggregatorRegistry("aggregator");
    FLOTILLA_CHECK(register_builtin_aggregators(*reg).ok());
    FLOTILLA_CHECK(register_builtin_algorithms(*reg).ok());
    return reg;
  }();
  return *r;
}

ModelState contract_state(int seed) {
  at::manual_seed(seed);
  ModelState s;
  s.add("conv.weight", at::randn({4, 2, 3, 3}));
  s.add("fc.bias", at::randn({5}));
  return s;
}

ClientUpdate update_of(int id, int64_t n, ModelState s) { return ClientUpdate{id, n, std::move(s), 0.0, 1, {}}; }

// The extras a rule expects, filled with positive values that depend on the client (SCAFFOLD's
// delta_c, FedNova's step norm, which must be > 0), so that rules with a client half see what
// their clients would send.
// `identical` gives every client the same extras (identical clients send identical extras).
std::vector<ClientUpdate> with_extras(const Aggregator& rule, std::vector<ClientUpdate> updates, bool identical) {
  const ModelState layout = rule.expected_update_extras();
  for (auto& u : updates) {
    u.extras = ModelState();
    for (const auto& e : layout.entries()) {
      const at::Tensor values = at::arange(e.tensor.numel(), at::kDouble).reshape(e.tensor.sizes()) * 0.01 + 0.5 +
                                0.1 * ((identical ? 0 : u.client_id) + 1);
      u.extras.add(e.name, values.to(e.tensor.scalar_type()));
    }
  }
  return updates;
}

// A round as the coordinator runs it: updates with the extras the rule expects.
StatusOr<ModelState> run_round(Aggregator& rule, int round, const ModelState& global, std::vector<ClientUpdate> updates,
                               bool identical_clients = false) {
  const std::vector<ClientUpdate> ups = with_extras(rule, std::move(updates), identical_clients);
  return rule.aggregate({round, &global, ups, {}});
}

// Adaptive rules move by a normalised step, not to the mean: "one client is identity" and "equal
// inputs give that input" are not their contract.
// FedDyn moves past the mean by its correction h / alpha.
bool moves_to_the_aggregate(const std::string& name) {
  return name != "fedadagrad" && name != "fedadam" && name != "fedyogi" && name != "feddyn";
}

class AggregatorContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    const bool checks_the_value =
        test.find("AllEqualInputs") != std::string::npos || test.find("OneClient") != std::string::npos;
    if (!moves_to_the_aggregate(GetParam()) && checks_the_value)
      GTEST_SKIP() << GetParam() << " takes an adaptive step, not the aggregate";
    const bool krum = GetParam() == "krum" || GetParam() == "multi_krum";
    if (krum && test.find("OneClient") != std::string::npos)
      GTEST_SKIP() << "Krum needs n > 2f + 2 updates; it refuses one (tested in rules_test)";
  }

  // Built and prepared as the coordinator does: six clients, the floating-point entries of
  // `global` (which come first) trainable.
  std::unique_ptr<Aggregator> make(const ModelState& global) {
    auto a = registry().create(GetParam());
    FLOTILLA_CHECK(a.ok()) << a.status();
    AlgorithmSetup setup;
    setup.num_clients = 6;
    setup.initial = &global;
    for (const auto& e : global.entries())
      if (e.tensor.is_floating_point()) setup.trainable.push_back(e.name);
    Status prepared = (*a)->prepare(setup);
    FLOTILLA_CHECK(prepared.ok()) << prepared;
    return std::move(a).value();
  }
};

TEST_P(AggregatorContractTest, AllEqualInputsGiveThatInput) {
  ModelState global = contract_state(1);
  ModelState client = contract_state(2);
  std::vector<ClientUpdate> ups;
  for (int k = 0; k < 5; ++k) ups.push_back(update_of(k, 10 + k, client));
  auto out = run_round(*make(global), 1, global, ups, /*identical_clients=*/true);
  ASSERT_TRUE(out.ok()) << out.status();
  for (size_t i = 0; i < client.size(); ++i)
    EXPECT_TRUE(at::allclose((*out)[i].tensor, client[i].tensor, 1e-5, 1e-6)) << client[i].name;
}

TEST_P(AggregatorContractTest, OneClientIsIdentity) {
  ModelState global = contract_state(1);
  std::vector<ClientUpdate> ups{update_of(3, 7, contract_state(4))};
  auto out = run_round(*make(global), 1, global, ups);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->check_same_layout(global).ok());
  for (size_t i = 0; i < global.size(); ++i)
    EXPECT_TRUE(at::allclose((*out)[i].tensor, ups[0].state[i].tensor, 1e-5, 1e-6));
}

TEST_P(AggregatorContractTest, OrderOfUpdatesDoesNotMatter) {
  ModelState global = contract_state(1);
  std::vector<ClientUpdate> ups;
  for (int k = 0; k < 6; ++k) ups.push_back(update_of(k, 5 + 3 * k, contract_state(10 + k)));
  // Two rounds, so stateful rules are checked with state.
  auto a = make(global), b = make(global);
  std::vector<ClientUpdate> reversed(ups.rbegin(), ups.rend());
  ModelState ga = global, gb = global;
  for (int round = 1; round <= 2; ++round) {
    auto forward = run_round(*a, round, ga, ups);
    auto backward = run_round(*b, round, gb, reversed);
    ASSERT_TRUE(forward.ok() && backward.ok()) << forward.status() << backward.status();
    for (size_t i = 0; i < global.size(); ++i) {
      EXPECT_TRUE(at::allclose((*forward)[i].tensor, (*backward)[i].tensor, 1e-5, 1e-6));
      EXPECT_TRUE(at::isfinite((*forward)[i].tensor).all().item<bool>());
    }
    ga = *forward;
    gb = *backward;
  }
}

// A model with an integer counter (as BatchNorm has) and a float64 tensor besides float32 ones.
ModelState mixed_state(int seed) {
  ModelState s = contract_state(seed);
  s.add("head.weight", at::randn({3}, at::kDouble));
  s.add("bn.num_batches_tracked", at::tensor(int64_t{seed % 17}));
  return s;
}

// Six clients (enough for Krum's n > 2f + 2), random models, unequal weights.
std::vector<ClientUpdate> random_round(int round) {
  std::vector<ClientUpdate> ups;
  for (int k = 0; k < 6; ++k) ups.push_back(update_of(k, 5 + 3 * k, mixed_state(100 * round + k)));
  return ups;
}

bool keeps_state(const std::string& name) {
  return name == "fedavgm" || name == "fedadagrad" || name == "fedadam" || name == "fedyogi" || name == "scaffold" ||
         name == "feddyn";
}

TEST_P(AggregatorContractTest, RestoredFreshInstanceContinuesBitIdentically) {
  ModelState global = mixed_state(1);
  auto a = make(global);
  for (int round = 1; round <= 3; ++round) {
    auto out = run_round(*a, round, global, random_round(round));
    ASSERT_TRUE(out.ok()) << out.status();
    global = *out;
  }
  ModelState saved = a->save_state();
  const ModelState snapshot = saved.clone();
  if (keeps_state(GetParam())) {
    EXPECT_FALSE(saved.empty()) << GetParam() << " saved none of its state";
  }

  auto b = make(mixed_state(1));  // what a resumed coordinator builds: same rule, same options
  Status restored = b->restore_state(saved);
  ASSERT_TRUE(restored.ok()) << restored;
  ModelState ga = global, gb = global;
  for (int round = 4; round <= 6; ++round) {
    const std::vector<ClientUpdate> ups = random_round(round);
    auto from_a = run_round(*a, round, ga, ups);
    auto from_b = run_round(*b, round, gb, ups);
    ASSERT_TRUE(from_a.ok() && from_b.ok()) << from_a.status() << from_b.status();
    ASSERT_TRUE(from_a->check_same_layout(*from_b).ok());
    for (size_t i = 0; i < from_a->size(); ++i)
      EXPECT_TRUE(at::equal((*from_a)[i].tensor, (*from_b)[i].tensor)) << "round " << round << " " << (*from_a)[i].name;
    ga = *from_a;
    gb = *from_b;
  }
  // save_state() is a snapshot: the rounds since did not change it.
  ASSERT_EQ(saved.size(), snapshot.size());
  for (size_t i = 0; i < saved.size(); ++i)
    EXPECT_TRUE(at::equal(saved[i].tensor, snapshot[i].tensor)) << saved[i].name;
  // Both instances end in the same state.
  const ModelState end_a = a->save_state(), end_b = b->save_state();
  ASSERT_TRUE(end_a.check_same_layout(end_b).ok());
  for (size_t i = 0; i < end_a.size(); ++i) EXPECT_TRUE(at::equal(end_a[i].tensor, end_b[i].tensor)) << end_a[i].name;
}

TEST_P(AggregatorContractTest, GarbageStateIsRefusedByName) {
  ModelState global = mixed_state(1);
  auto a = make(global);
  ModelState garbage;
  garbage.add("garbage/not_a_tensor_of_this_rule", at::ones({3}));
  Status s = a->restore_state(garbage);
  ASSERT_FALSE(s.ok()) << GetParam() << " accepted a state it did not save";
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(GetParam()), std::string::npos) << s;
  EXPECT_NE(s.message().find("garbage/not_a_tensor_of_this_rule"), std::string::npos) << s;
  // The refused restore left the instance working.
  auto out = run_round(*a, 1, global, random_round(1));
  ASSERT_TRUE(out.ok()) << out.status();
}

TEST_P(AggregatorContractTest, StateOfTheWrongShapeIsRefusedByName) {
  ModelState global = mixed_state(1);
  auto a = make(global);
  auto first = run_round(*a, 1, global, random_round(1));
  ASSERT_TRUE(first.ok()) << first.status();
  const ModelState saved = a->save_state();
  if (saved.empty()) GTEST_SKIP() << GetParam() << " keeps no state";
  ModelState bad;
  for (size_t i = 0; i < saved.size(); ++i) bad.add(saved[i].name, i == 0 ? at::ones({7}) : saved[i].tensor);
  // Refused by restore_state where the rule can tell alone, else by the next round, which needs the model.
  auto b = make(global);
  Status s = b->restore_state(bad);
  if (s.ok()) {
    auto next = run_round(*b, 2, *first, random_round(2));
    ASSERT_FALSE(next.ok()) << GetParam() << " aggregated with a state of the wrong shape";
    s = next.status();
  }
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(GetParam()), std::string::npos) << s;
  EXPECT_NE(s.message().find("conv.weight"), std::string::npos) << s;
  EXPECT_NE(s.message().find("[7]"), std::string::npos) << s;
}

INSTANTIATE_TEST_SUITE_P(Builtin, AggregatorContractTest, ::testing::ValuesIn(registry().names()));

}  // namespace
}  // namespace flotilla
