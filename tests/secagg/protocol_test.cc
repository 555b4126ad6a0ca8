// Secure aggregation end to end, in one process: the coordinator's state machine and the
// clients' exchange the protocol's messages directly. The sum is exact (mod 2^64) with dropouts at
// every stage while the threshold holds, fails with a message below it, the coordinator's view of
// one masked input is statistically uniform, and a client never reveals both of a neighbour's
// shares.
#include "secagg/protocol.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>

namespace flotilla::secagg {
namespace {

// The stage at which a client stops answering (it has done everything before it).
enum class DropAt { kKeys, kShares, kMask, kUnmask, kNever };

struct Round {
  std::map<int, std::vector<uint64_t>> inputs;
  std::map<int, DropAt> drops;
};

std::map<int, std::vector<uint64_t>> random_inputs(const std::vector<int>& ids, size_t length, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::map<int, std::vector<uint64_t>> inputs;
  for (int id : ids) {
    auto& v = inputs[id];
    for (size_t i = 0; i < length; ++i) v.push_back(gen());
  }
  return inputs;
}

bool drops_before(const Round& r, int id, DropAt stage) {
  auto found = r.drops.find(id);
  return found != r.drops.end() && static_cast<int>(found->second) <= static_cast<int>(stage);
}

// One round of the protocol with `server` (made here, left for the test to inspect); its result.
StatusOr<std::vector<uint64_t>> run_round(const SecAggParams& params, const Round& r,
                                          std::unique_ptr<SecAggServer>& server) {
  std::vector<int> ids;
  for (const auto& [id, v] : r.inputs) ids.push_back(id);
  server = std::make_unique<SecAggServer>(params, ids);
  std::map<int, SecAggClient> clients;
  for (int id : ids) clients.emplace(id, SecAggClient(id, params));
  for (auto& [id, c] : clients) {
    if (drops_before(r, id, DropAt::kKeys)) continue;
    ASSIGN_OR_RETURN(AdvertisedKeys keys, c.advertise());
    RETURN_IF_ERROR(server->add_keys(keys));
  }
  for (auto& [id, c] : clients) {
    if (!server->advertised().count(id) || drops_before(r, id, DropAt::kShares)) continue;
    auto shares = c.share_keys(server->keys_for(id));
    if (!shares.ok() && shares.status().code() == StatusCode::kFailedPrecondition) continue;  // too few neighbours
    RETURN_IF_ERROR(shares.status());
    RETURN_IF_ERROR(server->add_shares(id, *shares));
  }
  for (auto& [id, c] : clients) {
    if (!server->shared().count(id) || drops_before(r, id, DropAt::kMask)) continue;
    ASSIGN_OR_RETURN(MaskedInput masked, c.mask(server->shares_for(id), r.inputs.at(id)));
    RETURN_IF_ERROR(server->add_masked_input(std::move(masked)));
  }
  const UnmaskRequest request = server->unmask_request();
  for (auto& [id, c] : clients) {
    if (!server->masked().count(id) || drops_before(r, id, DropAt::kUnmask)) continue;
    ASSIGN_OR_RETURN(UnmaskShares shares, c.unmask(request));
    RETURN_IF_ERROR(server->add_unmask_shares(std::move(shares)));
  }
  return server->finish();
}

std::vector<uint64_t> plain_sum(const Round& r, const std::set<int>& who) {
  std::vector<uint64_t> sum(r.inputs.begin()->second.size(), 0);
  for (int id : who)
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += r.inputs.at(id)[i];
  return sum;
}

std::vector<int> client_ids(int n) {
  std::vector<int> ids;
  for (int i = 0; i < n; ++i) ids.push_back(10 + 2 * i);
  return ids;
}

TEST(SecAggProtocolTest, CompleteGraphSumsExactly) {
  SecAggParams params{.round = 1, .threshold = 5, .length = 1000, .neighbours = 0, .graph_seed = 0};
  Round r{random_inputs(client_ids(8), params.length, 1), {}};
  std::unique_ptr<SecAggServer> server;
  auto sum = run_round(params, r, server);
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  EXPECT_EQ(*sum, plain_sum(r, server->masked()));
  EXPECT_EQ(server->masked().size(), 8u);
  EXPECT_EQ(server->neighbours_of(10).size(), 7u);
}

TEST(SecAggProtocolTest, SecAggPlusMasksWithKNeighboursAndSumsExactly) {
  SecAggParams params{.round = 2, .threshold = 4, .length = 300, .neighbours = 6, .graph_seed = 99};
  Round r{random_inputs(client_ids(40), params.length, 2), {}};
  std::unique_ptr<SecAggServer> server;
  auto sum = run_round(params, r, server);
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  EXPECT_EQ(*sum, plain_sum(r, server->masked()));
  EXPECT_EQ(server->neighbours_of(10).size(), 6u);
}

class SecAggDropoutTest : public ::testing::TestWithParam<DropAt> {};

TEST_P(SecAggDropoutTest, DropoutsAtThisStageAreRecoveredFromTheSurvivorsShares) {
  SecAggParams params{.round = 3, .threshold = 3, .length = 200, .neighbours = 6, .graph_seed = 5};
  Round r{random_inputs(client_ids(14), params.length, 3), {}};
  for (int id : {12, 20, 30}) r.drops[id] = GetParam();
  std::unique_ptr<SecAggServer> server;
  auto sum = run_round(params, r, server);
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  // Those that dropped before sending their masked input are not in the sum; those that dropped
  // after it (at the unmasking) are.
  std::set<int> expected;
  for (const auto& [id, v] : r.inputs)
    if (!drops_before(r, id, DropAt::kMask)) expected.insert(id);
  EXPECT_EQ(server->masked(), expected);
  EXPECT_EQ(*sum, plain_sum(r, expected));
}

INSTANTIATE_TEST_SUITE_P(EveryStage, SecAggDropoutTest,
                         ::testing::Values(DropAt::kKeys, DropAt::kShares, DropAt::kMask, DropAt::kUnmask));

TEST(SecAggProtocolTest, DropoutsAtEveryStageInOneRound) {
  SecAggParams params{.round = 4, .threshold = 3, .length = 64, .neighbours = 0, .graph_seed = 0};
  Round r{random_inputs(client_ids(10), params.length, 4), {}};
  r.drops = {{10, DropAt::kKeys}, {12, DropAt::kShares}, {14, DropAt::kMask}, {16, DropAt::kUnmask}};
  std::unique_ptr<SecAggServer> server;
  auto sum = run_round(params, r, server);
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  std::set<int> expected = server->masked();
  EXPECT_EQ(expected.size(), 7u);  // 10, 12, 14 are out; 16 sent its input before it dropped
  EXPECT_TRUE(expected.count(16));
  EXPECT_EQ(*sum, plain_sum(r, expected));
}

TEST(SecAggProtocolTest, BelowTheThresholdTheRoundFailsSayingHowManyWereLeft) {
  SecAggParams params{.round = 5, .threshold = 4, .length = 16, .neighbours = 0, .graph_seed = 0};
  Round r{random_inputs(client_ids(6), params.length, 5), {}};
  // Three of six go silent at the unmasking: the self-mask of client 10, one of them, has shares from
  // only the 3 that answered, below 4.
  r.drops = {{10, DropAt::kUnmask}, {12, DropAt::kUnmask}, {14, DropAt::kUnmask}};
  std::unique_ptr<SecAggServer> server;
  auto sum = run_round(params, r, server);
  ASSERT_FALSE(sum.ok());
  EXPECT_NE(sum.status().message().find("client 10: 3 of its neighbours answered the unmasking"), std::string::npos)
      << sum.status().message();
  EXPECT_NE(sum.status().message().find("threshold 4"), std::string::npos) << sum.status().message();

  // A client left with fewer neighbours than the threshold before sharing cannot take part.
  SecAggClient lonely(1, params);
  auto keys = lonely.advertise();
  ASSERT_TRUE(keys.ok());
  SecAggClient other(2, params);
  auto shares = lonely.share_keys({*other.advertise()});
  ASSERT_FALSE(shares.ok());
  EXPECT_NE(shares.status().message().find("only 1 neighbour(s)"), std::string::npos) << shares.status().message();
}

// Clients 1, 2 and 3 of `server` through the first two stages (keys and shares).
Status advertise_and_share(const SecAggParams& params, SecAggServer& server, std::map<int, SecAggClient>& clients) {
  for (int id : {1, 2, 3}) {
    clients.emplace(id, SecAggClient(id, params));
    ASSIGN_OR_RETURN(AdvertisedKeys keys, clients.at(id).advertise());
    RETURN_IF_ERROR(server.add_keys(keys));
  }
  for (int id : {1, 2, 3}) {
    ASSIGN_OR_RETURN(std::vector<SealedShares> shares, clients.at(id).share_keys(server.keys_for(id)));
    RETURN_IF_ERROR(server.add_shares(id, std::move(shares)));
  }
  return Status();
}

TEST(SecAggProtocolTest, AClientNeverRevealsBothSharesOfOneNeighbour) {
  SecAggParams params{.round = 6, .threshold = 2, .length = 8, .neighbours = 0, .graph_seed = 0};
  SecAggServer server(params, {1, 2, 3});
  std::map<int, SecAggClient> clients;
  ASSERT_TRUE(advertise_and_share(params, server, clients).ok());
  for (int id : {1, 2, 3})
    ASSERT_TRUE(server.add_masked_input(*clients.at(id).mask(server.shares_for(id), std::vector<uint64_t>(8, 1))).ok());
  SecAggClient& one = clients.at(1);
  // An honest request: everyone survived; client 1 gives self-mask shares of 2 and 3.
  auto first = one.unmask({{1, 2, 3}, {}});
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->self_mask_shares.size(), 2u);
  EXPECT_TRUE(first->mask_key_shares.empty());
  // A coordinator that then claims 3 dropped, to get its mask key too, is refused.
  auto second = one.unmask({{1, 2}, {3}});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("asks for both shares of client 3"), std::string::npos)
      << second.status().message();
  // So is a request naming a client both ways at once, or leaving this client out.
  EXPECT_FALSE(clients.at(2).unmask({{1, 2, 3}, {3}}).ok());
  EXPECT_FALSE(clients.at(2).unmask({{1, 3}, {2}}).ok());
  // Asking the same again is fine: nothing new is revealed.
  EXPECT_TRUE(one.unmask({{1, 2, 3}, {}}).ok());
}

TEST(SecAggProtocolTest, SharesSealedForAnotherRoundDoNotOpen) {
  SecAggParams round1{.round = 1, .threshold = 2, .length = 4, .neighbours = 0, .graph_seed = 0};
  SecAggParams round2 = round1;
  round2.round = 2;
  SecAggClient a(1, round1), b(2, round2), c(3, round1);
  auto ka = a.advertise(), kb = b.advertise(), kc = c.advertise();
  auto from_a = a.share_keys({*kb, *kc});
  ASSERT_TRUE(from_a.ok());
  ASSERT_TRUE(b.share_keys({*ka, *kc}).ok());
  std::vector<SealedShares> for_b;
  for (const auto& s : *from_a)
    if (s.to == 2) for_b.push_back(s);
  auto masked = b.mask(for_b, std::vector<uint64_t>(4, 0));
  ASSERT_FALSE(masked.ok());
  EXPECT_NE(masked.status().message().find("does not authenticate"), std::string::npos) << masked.status().message();
}

// Pearson's chi-square of the top byte of `words` over 256 equally likely values.
double top_byte_chi_square(const std::vector<uint64_t>& words) {
  std::vector<double> counts(256, 0.0);
  for (uint64_t w : words) counts[w >> 56] += 1;
  const double expected = static_cast<double>(words.size()) / 256;
  double chi = 0;
  for (double c : counts) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

TEST(SecAggProtocolTest, WhatTheCoordinatorReceivesOfOneClientLooksUniform) {
  SecAggParams params{.round = 7, .threshold = 2, .length = 200000, .neighbours = 0, .graph_seed = 0};
  SecAggServer server(params, {1, 2, 3});
  std::map<int, SecAggClient> clients;
  ASSERT_TRUE(advertise_and_share(params, server, clients).ok());
  // Client 1's input is as far from uniform as it gets: every word 0.
  const std::vector<uint64_t> zeros(params.length, 0);
  auto masked = clients.at(1).mask(server.shares_for(1), zeros);
  ASSERT_TRUE(masked.ok());
  // 255 degrees of freedom: mean 255, standard deviation 22.6; 380 is beyond p = 1e-6.
  EXPECT_LT(top_byte_chi_square(masked->words), 380.0);
  EXPECT_GT(top_byte_chi_square(zeros), 1e6);  // the test does tell an unmasked input apart
  int equal = 0;
  for (size_t i = 0; i < zeros.size(); ++i) equal += masked->words[i] == 0;
  EXPECT_LT(equal, 3);
}

}  // namespace
}  // namespace flotilla::secagg
