// Krum and Multi-Krum (Blanchard et al. 2017, "Machine Learning with Adversaries"). Each client's
// score is the sum of squared L2 distances (over all floating-point tensors) to its n - f - 2
// nearest neighbours; Krum takes the model of the lowest-scoring client, Multi-Krum the
// sample-weighted average of the m lowest-scoring ones (ties go to the lower client id). Needs
// n > 2f + 2. The server step (server_lr) follows.
#pragma once

#include "aggregators/aggregator.h"

namespace flotilla {

struct KrumOptions {
  int64_t byzantine = 1;  // f
  int64_t selected = 1;   // m; 0 = n - f
  double server_lr = 1.0;
};

class Krum final : public Aggregator {
 public:
  // `name`: the registry name, for messages ("krum" or "multi_krum").
  explicit Krum(KrumOptions options, std::string name = "krum") : options_(options), name_(std::move(name)) {}
  StatusOr<ModelState> aggregate(const AggregationRound& round) override;
  ModelState save_state() const override { return ModelState(); }  // stateless
  Status restore_state(const ModelState& state) override;

  static AggregatorRegistry::Entry krum_entry();
  static AggregatorRegistry::Entry multi_krum_entry();

 private:
  KrumOptions options_;
  std::string name_;
};

// Krum scores, in update order (exposed for tests).
std::vector<double> krum_scores(std::span<const ClientUpdate> updates, int64_t byzantine);

}  // namespace flotilla
