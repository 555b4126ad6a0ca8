// AsyncServer with FedAsync and FedBuff: staleness bookkeeping, the rules against hand
// computations and against synchronous FedAvg, delay compensation, the version store, validation
// and checkpoints.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "aggregators/fed_avg.h"
#include "async/async_options.h"
#include "async/async_server.h"
#include "async/fed_async.h"

namespace flotilla {
namespace {

ModelState model(std::vector<float> w, int64_t counter = 0) {
  ModelState m;
  m.add("w", at::tensor(w));
  m.add("bn.num_batches_tracked", at::tensor(counter));
  return m;
}

std::unique_ptr<AsyncServer> make_server(AsyncOptions o, ModelState initial) {
  auto config = AsyncConfig::create(o);
  EXPECT_TRUE(config.ok()) << config.status();
  return make_async_server(*config, std::move(initial));
}

AsyncOptions fedasync(double alpha, const std::string& staleness = "constant") {
  AsyncOptions o;
  o.mode = AsyncMode::kFedAsync;
  o.alpha = alpha;
  o.staleness = staleness;
  return o;
}

AsyncOptions fedbuff(int k, double server_lr = 1.0, const std::string& staleness = "constant") {
  AsyncOptions o;
  o.mode = AsyncMode::kFedBuff;
  o.buffer_size = k;
  o.server_lr = server_lr;
  o.staleness = staleness;
  return o;
}

AsyncUpdate answer(const TaskTicket& t, ModelState trained, int64_t samples = 1) {
  return AsyncUpdate{t.task_id, t.client_id, t.base_version, samples, std::move(trained)};
}

AsyncUpdateRecord apply_ok(AsyncServer& server, const AsyncUpdate& u) {
  auto r = server.apply(u);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : AsyncUpdateRecord{};
}

std::vector<float> values(const ModelState& m) {
  const at::Tensor w = m[0].tensor.contiguous();
  return std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
}

void expect_error(const Status& s, StatusCode code, const std::string& fragment) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_NE(s.message().find(fragment), std::string::npos) << "'" << s.message() << "' lacks '" << fragment << "'";
}

TEST(AsyncStalenessTest, ScriptedArrivalsGiveEachTauAndWeight) {
  // FedAsync moves the version on every update. Dispatch v0 to clients 0, 1, 2; arrivals 1, 0, 2.
  auto server = make_server(fedasync(0.5, "polynomial:a=0.5"), model({0, 0}));
  const TaskTicket t0 = server->dispatch(0), t1 = server->dispatch(1), t2 = server->dispatch(2);
  EXPECT_EQ(t0.base_version, 0);
  EXPECT_EQ(t2.base_version, 0);
  const auto r1 = apply_ok(*server, answer(t1, model({1, 1})));
  const TaskTicket t3 = server->dispatch(1);  // client 1 again, from v1
  EXPECT_EQ(t3.base_version, 1);
  const auto r0 = apply_ok(*server, answer(t0, model({1, 1})));
  const auto r2 = apply_ok(*server, answer(t2, model({1, 1})));
  const auto r3 = apply_ok(*server, answer(t3, model({1, 1})));

  struct Expect {
    const AsyncUpdateRecord& r;
    int client;
    int64_t base, arrival, tau;
  };
  for (const Expect& e :
       {Expect{r1, 1, 0, 0, 0}, Expect{r0, 0, 0, 1, 1}, Expect{r2, 2, 0, 2, 2}, Expect{r3, 1, 1, 3, 2}}) {
    SCOPED_TRACE("client " + std::to_string(e.client) + " tau " + std::to_string(e.tau));
    EXPECT_EQ(e.r.client_id, e.client);
    EXPECT_EQ(e.r.base_version, e.base);
    EXPECT_EQ(e.r.arrival_version, e.arrival);
    EXPECT_EQ(e.r.staleness, e.tau);
    EXPECT_DOUBLE_EQ(e.r.staleness_weight, 1.0 / std::sqrt(e.tau + 1.0));
    EXPECT_DOUBLE_EQ(e.r.weight, 0.5 / std::sqrt(e.tau + 1.0));  // a_t = alpha * s(tau)
    EXPECT_TRUE(e.r.model_changed);
    EXPECT_EQ(e.r.version_after, e.arrival + 1);
  }
  EXPECT_EQ(server->version(), 4);
  EXPECT_EQ(server->in_flight(), 0);
}

TEST(AsyncStalenessTest, FedBuffVersionMovesOnlyAtTheFlush) {
  auto server = make_server(fedbuff(2, 1.0, "hinge:a=1,b=0"), model({0, 0}));
  const TaskTicket t0 = server->dispatch(0), t1 = server->dispatch(1), t2 = server->dispatch(2);
  const auto r1 = apply_ok(*server, answer(t1, model({1, 1})));
  const auto r0 = apply_ok(*server, answer(t0, model({1, 1})));
  const auto r2 = apply_ok(*server, answer(t2, model({1, 1})));
  EXPECT_EQ(r1.staleness, 0);
  EXPECT_FALSE(r1.model_changed);
  EXPECT_EQ(r0.staleness, 0);
  EXPECT_TRUE(r0.model_changed);
  EXPECT_EQ(r0.version_after, 1);
  EXPECT_EQ(r2.staleness, 1);
  EXPECT_DOUBLE_EQ(r2.staleness_weight, 0.5);  // 1 / (1 * (1 - 0) + 1)
  EXPECT_DOUBLE_EQ(r2.weight, 0.5);            // s(tau) * w, w = n = 1
  EXPECT_FALSE(r2.model_changed);
}

TEST(FedAsyncTest, OneStepAgainstHandComputation) {
  // alpha 0.5, hinge a=1, b=0: s(0) = 1, s(1) = 1/2.
  auto server = make_server(fedasync(0.5, "hinge:a=1,b=0"), model({1, 2}, 10));
  const TaskTicket t0 = server->dispatch(0), t1 = server->dispatch(1);
  apply_ok(*server, answer(t0, model({3, -2}, 20)));
  // a = 0.5: 0.5 [1, 2] + 0.5 [3, -2] = [2, 0]; counter 0.5 * 10 + 0.5 * 20 = 15.
  EXPECT_EQ(values(server->global()), (std::vector<float>{2, 0}));
  EXPECT_EQ(server->global()[1].tensor.item<int64_t>(), 15);
  const auto r = apply_ok(*server, answer(t1, model({6, 4}, 25)));
  // tau = 1, a = 0.25: 0.75 [2, 0] + 0.25 [6, 4] = [3, 1]; counter 11.25 + 6.25 = 17.5 -> 18.
  EXPECT_DOUBLE_EQ(r.weight, 0.25);
  EXPECT_EQ(values(server->global()), (std::vector<float>{3, 1}));
  EXPECT_EQ(server->global()[1].tensor.item<int64_t>(), 18);
  EXPECT_EQ(server->global()[1].tensor.scalar_type(), at::kLong);
}

TEST(FedBuffTest, WithKEqualNAndNoDelaysIsBitIdenticalToFedAvg) {
  // The header's claim: all updates from the current version -> FedAvg's exact weighted mean, the
  // same bits in any arrival order, for any server lr and any staleness function (s(0) = 1).
  const int n = 5;
  at::manual_seed(11);
  const ModelState global = [] {
    ModelState m;
    m.add("w", at::randn({7, 13}));
    m.add("b", at::randn({13}).to(at::kDouble));
    m.add("bn.num_batches_tracked", at::tensor(int64_t{40}));
    return m;
  }();
  std::vector<ClientUpdate> updates;
  for (int c = 0; c < n; ++c) {
    ModelState s;
    s.add("w", global[0].tensor + 0.1 * at::randn({7, 13}));
    s.add("b", global[1].tensor + 0.1 * at::randn({13}).to(at::kDouble));
    s.add("bn.num_batches_tracked", at::tensor(int64_t{40 + 3 * c}));
    updates.emplace_back(c, 17 + 29 * c, std::move(s));
  }
  std::mt19937 rng(5);
  for (double eta : {1.0, 0.7}) {
    FedAvg fedavg(FedAvgOptions{eta});
    const auto expected = fedavg.aggregate(AggregationRound{1, &global, updates, {}});
    ASSERT_TRUE(expected.ok()) << expected.status();
    for (const char* staleness : {"constant", "polynomial:a=0.5"}) {
      for (int trial = 0; trial < 3; ++trial) {
        auto server = make_server(fedbuff(n, eta, staleness), global);
        std::vector<TaskTicket> tickets;
        for (int c = 0; c < n; ++c) tickets.push_back(server->dispatch(c));
        std::vector<int> order{0, 1, 2, 3, 4};
        std::shuffle(order.begin(), order.end(), rng);
        for (int i = 0; i < n; ++i) {
          const ClientUpdate& u = updates[order[i]];
          const auto r = apply_ok(*server, answer(tickets[order[i]], u.state, u.num_samples));
          EXPECT_EQ(r.model_changed, i == n - 1);
        }
        ASSERT_EQ(server->version(), 1);
        for (size_t t = 0; t < global.size(); ++t) {
          EXPECT_TRUE(at::equal(server->global()[t].tensor, (*expected)[t].tensor))
              << global[t].name << " eta " << eta << " " << staleness;
          EXPECT_EQ(server->global()[t].tensor.scalar_type(), global[t].tensor.scalar_type());
        }
      }
    }
  }
}

TEST(FedBuffTest, AppliesEveryKAndServerLrScalesTheStep) {
  auto o = fedbuff(3, 0.5);
  o.sample_weighted = false;
  auto server = make_server(o, model({0, 0}));
  std::vector<TaskTicket> t;
  for (int c = 0; c < 6; ++c) t.push_back(server->dispatch(c));
  const ModelState before = server->global();
  EXPECT_FALSE(apply_ok(*server, answer(t[0], model({1, 1}))).model_changed);
  EXPECT_FALSE(apply_ok(*server, answer(t[1], model({2, 2}))).model_changed);
  EXPECT_EQ(server->version(), 0);
  EXPECT_TRUE(at::equal(server->global()[0].tensor, before[0].tensor));
  EXPECT_EQ(server->rule().buffered(), 2);
  EXPECT_TRUE(apply_ok(*server, answer(t[2], model({3, 6}))).model_changed);
  // mean delta [2, 3], times eta 0.5.
  EXPECT_EQ(values(server->global()), (std::vector<float>{1, 1.5}));
  EXPECT_EQ(server->version(), 1);
  // Three stale updates (base v0 = [0, 0], tau = 1): deltas [4, 4], [4, 4], [1, 7] -> mean [3, 5].
  EXPECT_FALSE(apply_ok(*server, answer(t[3], model({4, 4}))).model_changed);
  EXPECT_FALSE(apply_ok(*server, answer(t[4], model({4, 4}))).model_changed);
  EXPECT_TRUE(apply_ok(*server, answer(t[5], model({1, 7}))).model_changed);
  EXPECT_EQ(values(server->global()), (std::vector<float>{1 + 1.5f, 1.5f + 2.5f}));
}

TEST(FedBuffTest, StaleDeltasAreStalenessAndSampleWeighted) {
  // polynomial a=1: s(1) = 1/2. Base v0 = [0]; after the first flush x = [2].
  auto server = make_server(fedbuff(2, 1.0, "polynomial:a=1"), model({0}));
  std::vector<TaskTicket> t;
  for (int c = 0; c < 4; ++c) t.push_back(server->dispatch(c));
  apply_ok(*server, answer(t[0], model({2}), 1));
  apply_ok(*server, answer(t[1], model({2}), 3));
  EXPECT_EQ(values(server->global()), (std::vector<float>{2}));
  // x + (s w1 d1 + s w2 d2) / (w1 + w2) = 2 + (0.5 * 1 * 4 + 0.5 * 3 * 8) / 4 = 2 + 3.5
  apply_ok(*server, answer(t[2], model({4}), 1));
  apply_ok(*server, answer(t[3], model({8}), 3));
  EXPECT_EQ(values(server->global()), (std::vector<float>{5.5}));
}

TEST(DelayCompensationTest, HandComputedCompensatedDelta) {
  // d = [2, -1], drift = [1, -2], lambda / eta = 5: d~ = [2 - 5 * 4 * 1, -1 - 5 * 1 * (-2)] = [-18, 9].
  const ModelState base = model({1, 2}, 3), now = model({2, 0}, 4), trained = model({3, 1}, 5);
  const ModelState out = compensate_delay(base, now, trained, DelayCompensation{0.5, 0.1});
  EXPECT_EQ(values(out), (std::vector<float>{-17, 11}));
  EXPECT_EQ(out[1].tensor.item<int64_t>(), 5);  // counters are the client's

  // Through the server: FedAsync with alpha 1 takes the compensated model as it is.
  auto o = fedasync(1.0);
  o.dc_lambda = 0.5;
  o.dc_client_lr = 0.1;
  auto server = make_server(o, base);
  const TaskTicket t0 = server->dispatch(0), t1 = server->dispatch(1);
  apply_ok(*server, answer(t0, now));
  apply_ok(*server, answer(t1, trained));
  EXPECT_EQ(values(server->global()), (std::vector<float>{-17, 11}));
}

TEST(DelayCompensationTest, LambdaZeroIsThePlainRuleBitForBit) {
  at::manual_seed(3);
  const ModelState base = model({0.1f, 0.2f, 0.3f}), now = model({0.7f, -0.4f, 0.9f});
  ModelState trained;
  trained.add("w", at::randn({3}));
  trained.add("bn.num_batches_tracked", at::tensor(int64_t{1}));
  const ModelState same = compensate_delay(base, now, trained, DelayCompensation{0.0, 0.01});
  EXPECT_TRUE(at::equal(same[0].tensor, trained[0].tensor));

  // A stale FedAsync update with lambda = 0 against the rule fed the raw client model.
  for (AsyncMode mode : {AsyncMode::kFedAsync, AsyncMode::kFedBuff}) {
    AsyncOptions o = mode == AsyncMode::kFedAsync ? fedasync(0.6, "polynomial:a=0.5") : fedbuff(1);
    o.dc_lambda = 0.0;
    o.dc_client_lr = 0.01;
    auto server = make_server(o, base);
    const TaskTicket t0 = server->dispatch(0), t1 = server->dispatch(1);
    apply_ok(*server, answer(t0, now));
    const ModelState x = server->global();
    apply_ok(*server, answer(t1, trained));
    ModelState expected;
    if (mode == AsyncMode::kFedAsync) {
      FedAsync rule(0.6);
      AsyncContribution c{1, 1, 1, 1.0 / std::sqrt(2.0), &x, &base, &trained};
      expected = *std::move(*rule.absorb(c)).model;
    } else {  // K = 1, eta 1: x + (trained - base), in float64, rounded once
      expected = x;
      expected.mutable_entries()[0].tensor =
          (x[0].tensor.to(at::kDouble) + (trained[0].tensor.to(at::kDouble) - base[0].tensor.to(at::kDouble)))
              .to(at::kFloat);
    }
    EXPECT_TRUE(at::equal(server->global()[0].tensor, expected[0].tensor));
    // And lambda > 0 does change it.
    o.dc_lambda = 0.5;
    auto compensated = make_server(o, base);
    const TaskTicket u0 = compensated->dispatch(0), u1 = compensated->dispatch(1);
    apply_ok(*compensated, answer(u0, now));
    apply_ok(*compensated, answer(u1, trained));
    EXPECT_FALSE(at::equal(compensated->global()[0].tensor, expected[0].tensor));
  }
}

TEST(VersionStoreTest, DropsUnreferencedVersionsAndRefusesUnknownOnes) {
  VersionStore store(0, model({0}));
  EXPECT_EQ(store.acquire_current(), 0);
  EXPECT_EQ(store.acquire_current(), 0);
  store.advance(1, model({1}));
  store.advance(2, model({2}));  // v1 was never referenced: dropped at once
  EXPECT_EQ(store.held(), 2u);
  EXPECT_EQ(store.get(1).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store.get(0).ok());
  EXPECT_EQ(values(*store.get(0)), (std::vector<float>{0}));
  ASSERT_TRUE(store.release(0).ok());
  EXPECT_EQ(store.held(), 2u);  // one task still uses v0
  ASSERT_TRUE(store.release(0).ok());
  EXPECT_EQ(store.held(), 1u);
  expect_error(store.get(0).status(), StatusCode::kNotFound, "model version 0 is not held");
  EXPECT_EQ(store.release(0).code(), StatusCode::kNotFound);
  EXPECT_EQ(store.release(7).code(), StatusCode::kNotFound);
  EXPECT_EQ(values(store.current()), (std::vector<float>{2}));
}

TEST(VersionStoreTest, ServerHoldsAtMostConcurrencyPlusOneVersions) {
  const int concurrency = 3;
  auto server = make_server(fedasync(0.5, "polynomial:a=0.5"), model({0, 0}));
  std::deque<TaskTicket> flight;
  std::mt19937 rng(1);
  for (int c = 0; c < concurrency; ++c) flight.push_back(server->dispatch(c));
  for (int step = 0; step < 60; ++step) {
    // Answer a random in-flight task, then replace it.
    const size_t pick = rng() % flight.size();
    const TaskTicket t = flight[pick];
    flight.erase(flight.begin() + static_cast<long>(pick));
    apply_ok(*server, answer(t, model({1.0f * step, 1})));
    flight.push_back(server->dispatch(t.client_id));
    EXPECT_LE(server->versions().held(), static_cast<size_t>(concurrency + 1));
  }
  EXPECT_EQ(server->version(), 60);
  // Abandoning the rest releases their versions: only the current one is left.
  for (const TaskTicket& t : flight) ASSERT_TRUE(server->abandon(t.task_id).ok());
  EXPECT_EQ(server->versions().held(), 1u);
  EXPECT_EQ(server->abandon(flight.front().task_id).code(), StatusCode::kNotFound);
}

TEST(AsyncServerTest, RefusesUnknownTasksWrongClientsAndWrongBaseVersions) {
  auto server = make_server(fedasync(0.5), model({0, 0}));
  const TaskTicket t = server->dispatch(4);
  AsyncUpdate unknown = answer(t, model({1, 1}));
  unknown.task_id = 99;
  expect_error(server->apply(unknown).status(), StatusCode::kNotFound, "task 99 is not in flight");
  AsyncUpdate impostor = answer(t, model({1, 1}));
  impostor.client_id = 5;
  expect_error(server->apply(impostor).status(), StatusCode::kPermissionDenied, "given to client 4");
  EXPECT_EQ(server->in_flight(), 1);  // still the real client's task
  AsyncUpdate wrong_base = answer(t, model({1, 1}));
  wrong_base.base_version = 3;
  expect_error(server->apply(wrong_base).status(), StatusCode::kInvalidArgument, "claims base version 3");
  EXPECT_EQ(server->in_flight(), 0);
  expect_error(server->apply(answer(t, model({1, 1}))).status(), StatusCode::kNotFound, "not in flight");
  EXPECT_EQ(server->version(), 0);
}

TEST(AsyncServerTest, BadUpdatesAreRejectedNamingTheProblem) {
  for (AsyncMode mode : {AsyncMode::kFedAsync, AsyncMode::kFedBuff}) {
    auto server = make_server(mode == AsyncMode::kFedAsync ? fedasync(0.5) : fedbuff(1), model({1, 2}, 3));
    auto expect_rejected = [&](ModelState state, int64_t samples, const std::string& fragment) {
      const TaskTicket t = server->dispatch(2);
      const auto r = server->apply(answer(t, std::move(state), samples));
      expect_error(r.status(), StatusCode::kInvalidArgument, fragment);
      EXPECT_NE(r.status().message().find("client 2 (task " + std::to_string(t.task_id) + ")"), std::string::npos);
      EXPECT_EQ(server->in_flight(), 0);  // the task is over
    };
    expect_rejected(model({NAN, 1}), 1, "tensor 'w' contains NaN or Inf");
    expect_rejected(model({INFINITY, 1}), 1, "contains NaN or Inf");
    expect_rejected(model({1, 2, 3}), 1, "tensor 'w' has shape");
    ModelState renamed;
    renamed.add("v", at::tensor(std::vector<float>{1, 2}));
    renamed.add("bn.num_batches_tracked", at::tensor(int64_t{3}));
    expect_rejected(renamed, 1, "is 'v', expected 'w'");
    expect_rejected(model({1, 1}), 0, "num_samples must be > 0 (got 0)");
    expect_rejected(model({1, 1}), -4, "num_samples must be > 0 (got -4)");
    EXPECT_EQ(server->version(), 0);
    EXPECT_EQ(values(server->global()), (std::vector<float>{1, 2}));
    EXPECT_EQ(server->rule().buffered(), 0);
  }
}

TEST(AsyncServerTest, CheckpointAtAModelChangeAndResume) {
  auto server = make_server(fedbuff(2), model({0, 0}, 1));
  std::vector<TaskTicket> t;
  for (int c = 0; c < 3; ++c) t.push_back(server->dispatch(c));
  apply_ok(*server, answer(t[0], model({2, 2}, 3)));
  expect_error(server->save_state().status(), StatusCode::kFailedPrecondition, "1 buffered update");
  apply_ok(*server, answer(t[1], model({4, 4}, 5)));
  const auto saved = server->save_state();
  ASSERT_TRUE(saved.ok()) << saved.status();

  auto resumed = make_server(fedbuff(2), model({0, 0}, 1));
  const Status restored = resumed->restore_state(*saved);
  ASSERT_TRUE(restored.ok()) << restored;
  EXPECT_EQ(resumed->version(), 1);
  EXPECT_TRUE(at::equal(resumed->global()[0].tensor, server->global()[0].tensor));
  EXPECT_EQ(resumed->global()[1].tensor.item<int64_t>(), 4);
  EXPECT_GT(resumed->dispatch(0).task_id, t.back().task_id);  // ids continue: no collision with late answers

  auto busy = make_server(fedbuff(2), model({0, 0}, 1));
  (void)busy->dispatch(0);
  EXPECT_EQ(busy->restore_state(*saved).code(), StatusCode::kFailedPrecondition);
  auto other = make_server(fedbuff(2), model({0, 0, 0}, 1));
  expect_error(other->restore_state(*saved), StatusCode::kInvalidArgument, "async server state");
  ModelState junk = *saved;
  junk.add("extra", at::tensor(1.0));
  expect_error(make_server(fedbuff(2), model({0, 0}, 1))->restore_state(junk), StatusCode::kInvalidArgument,
               "unexpected tensor 'extra'");
}

TEST(AsyncEventLoopTest, VirtualClockMakesTheRunIndependentOfRealArrivalOrder) {
  // A coordinator's loop in miniature: 6 clients, 3 tasks in flight, clients chosen round-robin,
  // "training" a deterministic function of the model sent. Results arrive in a random real order;
  // the virtual clock decides the order of application, so every run ends with the same bits.
  AsyncOptions o = fedasync(0.5, "polynomial:a=0.5");
  o.delay = "gaussian:mean=1,std=0.5,per=batch;slow=2:factor=3";
  auto virtual_config = AsyncConfig::create(o);
  ASSERT_TRUE(virtual_config.ok()) << virtual_config.status();
  o.clock = ClockMode::kReal;
  auto real_config = AsyncConfig::create(o);
  ASSERT_TRUE(real_config.ok()) << real_config.status();
  auto run = [&](uint32_t arrival_seed, const AsyncConfig* config) {
    auto server = make_async_server(*config, model({0, 0}));
    auto order = make_completion_order(*config, /*seed=*/42);
    std::map<int64_t, AsyncUpdate> results;
    std::vector<int64_t> unreported;
    int dispatched = 0;
    auto dispatch = [&] {
      const int client = dispatched++ % 6;
      const TaskTicket t = server->dispatch(client);
      EXPECT_TRUE(order->start(t.task_id, client, 2 + client % 3).ok());
      const ModelState& x = server->global();
      ModelState trained;
      trained.add("w", x[0].tensor * 0.5f + static_cast<float>(client));
      trained.add("bn.num_batches_tracked", x[1].tensor + 1);
      results[t.task_id] = answer(t, std::move(trained), 10 + client);
      unreported.push_back(t.task_id);
    };
    for (int i = 0; i < 3; ++i) dispatch();
    std::mt19937 arrivals(arrival_seed);
    std::vector<int64_t> applied;
    while (applied.size() < 25) {
      const size_t pick = arrivals() % unreported.size();
      EXPECT_TRUE(order->report(unreported[pick]).ok());
      unreported.erase(unreported.begin() + static_cast<long>(pick));
      for (auto next = order->next_ready(); next && applied.size() < 25; next = order->next_ready()) {
        const auto r = server->apply(results.at(*next));
        EXPECT_TRUE(r.ok()) << r.status();
        EXPECT_TRUE(order->complete(*next).ok());
        results.erase(*next);
        applied.push_back(*next);
        dispatch();
      }
    }
    return std::make_pair(applied, server->global());
  };
  const auto [applied, global] = run(1, &*virtual_config);
  for (uint32_t seed : {2u, 3u, 4u}) {
    const auto [again, global_again] = run(seed, &*virtual_config);
    EXPECT_EQ(again, applied);
    EXPECT_TRUE(at::equal(global_again[0].tensor, global[0].tensor));
  }
  // The test has teeth: in real-time mode (arrival order) these arrival orders do change the run.
  const auto real_1 = run(1, &*real_config).first;
  const auto real_2 = run(2, &*real_config).first;
  EXPECT_NE(real_1, real_2);
}

}  // namespace
}  // namespace flotilla
