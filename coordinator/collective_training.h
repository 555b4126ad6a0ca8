// CollectiveTraining: decentralised synchronous rounds (--topology ring-allreduce | gossip). The
// coordinator only orchestrates: each round it names the group (every client, its rank, its
// peers' endpoints and keys, gossip's mixing weights) and the clients train locally, then combine
// their models among themselves over their own connections (client/collective_member.h):
//   ring-allreduce: reduce-scatter + all-gather of the sample-weighted mean, 2(N-1) steps of
//                   model/N bytes each, so every client ends with the same average;
//   gossip:         one step x_i <- sum_j W_ij x_j with the neighbours on --graph (--mixing
//                   metropolis | uniform), so the models only approach each other (consensus).
// No model passes through the coordinator except the initial one (round 1) and, on evaluation
// rounds (--eval-every), the clients' models, from which it records the average model's accuracy,
// the consensus distance (mean distance of the models to their average) and, for gossip, each
// client's own accuracy. Every round records the peer traffic each client measured next to what
// the topology's formula predicts.
//
// Needs every client in a process of its own with a peer endpoint (flotilla-client --peer-bind);
// a collective cannot go on without a member, so a lost or failing client fails the round.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>

#include "collective/graph.h"
#include "coordinator/training_policy.h"

namespace flotilla {

class CollectiveTraining : public TrainingPolicy {
 public:
  // InvalidArgument for a bad --graph or --mixing.
  static StatusOr<std::unique_ptr<CollectiveTraining>> create(TrainingContext ctx,
                                                              std::shared_ptr<const Allowlist> allowlist);

  Status run(int first_round) override;

  void on_update(msg::ClientUpdate update, int64_t wire_bytes) override;
  void on_client_error(const msg::Error& error) override;
  void on_clients_lost(const std::vector<int>& ids, const std::string& why) override;
  void on_clients_registered(const std::vector<int>&) override {}

 private:
  CollectiveTraining(TrainingContext ctx, std::shared_ptr<const Allowlist> allowlist)
      : ctx_(ctx), allowlist_(std::move(allowlist)) {}
  // The group of this round, by rank (= client id order), or why it cannot be formed now.
  StatusOr<std::vector<msg::CollectivePeer>> form_group() const;
  Status run_round(int round, bool first);
  Status finish_round(int round, bool evaluate, RoundMetrics& metrics);

  TrainingContext ctx_;
  std::shared_ptr<const Allowlist> allowlist_;  // CURVE: the clients' public keys
  std::optional<MixingMatrix> mixing_;          // gossip
  // The round in progress.
  int round_ = 0;
  std::set<int> outstanding_;
  std::map<int, ClientRoundMetrics> rows_;
  std::map<int, ModelState> models_;  // evaluation rounds: each client's model
  std::string failure_;               // why the round cannot complete
};

}  // namespace flotilla
