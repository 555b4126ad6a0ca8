#include "client/local_data.h"

#include <ATen/core/Tensor.h>

#include "core/shape_text.h"

namespace flotilla {
namespace {

std::string dtype_name(const at::Tensor& x) { return x.scalar_type() == at::kByte ? "uint8" : "float32"; }

}  // namespace

msg::DataReport describe_local_data(int client_id, const DatasetSplits& splits, bool withhold_label_counts) {
  msg::DataReport r;
  r.client_id = client_id;
  r.train_samples = splits.train.size();
  r.test_samples = splits.test.size();
  const at::Tensor& x = splits.train.images;
  r.sample_shape.assign(x.sizes().begin() + 1, x.sizes().end());
  r.dtype = dtype_name(x);
  // A site without test files has an empty test split, whose num_classes is only the default.
  r.num_classes =
      splits.test.size() > 0 ? std::max(splits.train.num_classes, splits.test.num_classes) : splits.train.num_classes;
  if (!withhold_label_counts) r.label_counts = label_counts(splits.train, r.num_classes);
  const InputStats stats = input_stats(splits.train);
  r.input_sum = stats.sum;
  r.input_sum_sq = stats.sum_sq;
  r.input_count = stats.count;
  return r;
}

StatusOr<std::map<int, LocalClientData>> load_local_data(const std::vector<int>& client_ids,
                                                         const LocalDataOptions& options) {
  if (client_ids.empty()) return invalid_argument_error("no client ids to load local data for");
  std::map<int, LocalClientData> out;
  const bool only_client = client_ids.size() == 1;
  for (int id : client_ids) {
    const std::string who = "client " + std::to_string(id);
    auto dir = site_dir_for(options.dir, id, only_client);
    if (!dir.ok()) return dir.status().with_context(who);
    auto splits = load_site_dir(*dir, options.site);
    if (!splits.ok()) return splits.status().with_context(who + " (" + *dir + ")");
    LocalClientData data;
    data.report = describe_local_data(id, *splits, options.withhold_label_counts);
    data.splits = std::move(splits).value();
    if (!out.empty()) {
      const msg::DataReport& first = out.begin()->second.report;
      if (first.sample_shape != data.report.sample_shape || first.dtype != data.report.dtype)
        return invalid_argument_error(who + "'s samples are " + data.report.dtype + " " +
                                      shape_text(data.report.sample_shape) + ", client " +
                                      std::to_string(first.client_id) + "'s are " + first.dtype + " " +
                                      shape_text(first.sample_shape) + ": one process trains one model input");
    }
    out.emplace(id, std::move(data));
  }
  return out;
}

}  // namespace flotilla
