// OwnData: what the clients of a run told the coordinator about their own data when they
// registered (protocol 8's DataReport), checked against the model's input before round 1, and the
// aggregates the run uses: per-class counts for the metrics and federated normalisation. Nothing
// here ever sees a sample. Coordinator thread only.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "core/experiment.h"
#include "core/shape_text.h"
#include "core/status.h"
#include "protocol/messages.h"

namespace flotilla {

class OwnData {
 public:
  // `class_counts` ([client][class]) receives each reporting client's label counts (left empty for
  // a site that withholds them) and `samples` ([client]) its training samples; both are sized to
  // the run's clients and outlive this object.
  OwnData(const Experiment& experiment, std::vector<std::vector<int64_t>>* class_counts, std::vector<int64_t>* samples);

  // The registration check (ClientHubOptions::check_registration). A run on public data refuses a
  // process that brings its own; a run of dataset local refuses one that does not, and data whose
  // sample shape is not the model's input or whose labels go past the model's classes, naming
  // both. Accepted reports are kept (a re-registration replaces its clients' reports).
  Status check(const msg::Register& registration);

  int reported_clients() const { return static_cast<int>(reports_.size()); }
  // True when every client of the run reported its label counts.
  bool all_label_counts_known() const;

  // Per-channel mean and (population) std of the training inputs of every client that reported,
  // from their sums alone; a std of 0 becomes 1. FailedPrecondition when none reported.
  StatusOr<std::pair<std::vector<double>, std::vector<double>>> normalisation() const;

 private:
  const Experiment& experiment_;
  std::vector<std::vector<int64_t>>* class_counts_;
  std::vector<int64_t>* samples_;
  std::map<int, msg::DataReport> reports_;
};

}  // namespace flotilla
