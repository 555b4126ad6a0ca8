#include "coordinator/own_data.h"

#include <cmath>

namespace flotilla {

OwnData::OwnData(const Experiment& experiment, std::vector<std::vector<int64_t>>* class_counts,
                 std::vector<int64_t>* samples)
    : experiment_(experiment), class_counts_(class_counts), samples_(samples) {}

Status OwnData::check(const msg::Register& registration) {
  const bool local = experiment_.dataset == kLocalDataset;
  if (!local) {
    if (registration.data.empty()) return Status();
    return failed_precondition_error("client " + std::to_string(registration.data.front().client_id) +
                                     " brings its own data (--local-data), but this run partitions the public data "
                                     "set '" +
                                     experiment_.dataset + "' among its clients");
  }
  if (registration.data.empty())
    return failed_precondition_error("this run trains on the clients' own data (dataset local), and client " +
                                     std::to_string(registration.client_ids.front()) +
                                     " reported none: start it with --local-data and --data-dir naming its files");
  for (const msg::DataReport& r : registration.data) {
    const std::string who = "client " + std::to_string(r.client_id);
    if (r.sample_shape != experiment_.sample_shape)
      return invalid_argument_error(who + "'s samples are " + shape_text(r.sample_shape) + ", and the model takes " +
                                    shape_text(experiment_.sample_shape) + " (--input-shape, or the --test-data)");
    if (r.num_classes > experiment_.num_classes)
      return invalid_argument_error(who + " has labels up to " + std::to_string(r.num_classes - 1) +
                                    ", and the model has " + std::to_string(experiment_.num_classes) + " classes (0.." +
                                    std::to_string(experiment_.num_classes - 1) + ")");
  }
  for (const msg::DataReport& r : registration.data) {
    reports_[r.client_id] = r;
    auto& counts = (*class_counts_)[static_cast<size_t>(r.client_id)];
    counts = r.label_counts;
    if (!counts.empty()) counts.resize(static_cast<size_t>(experiment_.num_classes), 0);
    (*samples_)[static_cast<size_t>(r.client_id)] = r.train_samples;
  }
  return Status();
}

bool OwnData::all_label_counts_known() const {
  if (static_cast<int>(reports_.size()) < experiment_.num_clients) return false;
  for (const auto& [id, r] : reports_)
    if (r.label_counts.empty()) return false;
  return true;
}

StatusOr<std::pair<std::vector<double>, std::vector<double>>> OwnData::normalisation() const {
  if (reports_.empty()) return failed_precondition_error("no client has reported its data yet");
  const size_t channels = reports_.begin()->second.input_sum.size();
  std::vector<double> sum(channels, 0.0), sum_sq(channels, 0.0);
  double count = 0;
  for (const auto& [id, r] : reports_) {
    for (size_t c = 0; c < channels; ++c) {
      sum[c] += r.input_sum[c];
      sum_sq[c] += r.input_sum_sq[c];
    }
    count += static_cast<double>(r.input_count);
  }
  std::vector<double> mean(channels), deviation(channels);
  for (size_t c = 0; c < channels; ++c) {
    mean[c] = sum[c] / count;
    const double variance = std::max(0.0, sum_sq[c] / count - mean[c] * mean[c]);
    deviation[c] = variance > 0 ? std::sqrt(variance) : 1.0;
  }
  return std::pair{std::move(mean), std::move(deviation)};
}

}  // namespace flotilla
