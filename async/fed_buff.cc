#include "async/fed_buff.h"

#include <ATen/ATen.h>

#include "aggregators/server_step.h"

namespace flotilla {

FedBuff::FedBuff(FedBuffOptions options) : options_(options) {
  FLOTILLA_CHECK(options.buffer_size >= 1) << "FedBuff buffer size " << options.buffer_size;
  FLOTILLA_CHECK(options.server_lr > 0) << "FedBuff server lr " << options.server_lr;
}

StatusOr<Absorbed> FedBuff::absorb(const AsyncContribution& c) {
  const int64_t w = options_.sample_weighted ? c.num_samples : 1;
  const bool fresh = c.staleness == 0 && c.staleness_weight == 1.0;
  if (count_ == 0) {
    delta_sum_.clear();
    for (const auto& e : c.global->entries()) delta_sum_.push_back(at::zeros(e.tensor.sizes(), at::kDouble));
    models_.emplace(*c.global);
    fresh_ = true;
  }
  if (fresh_ && fresh) {
    RETURN_IF_ERROR(models_->add(*c.trained, w));  // first: an error here leaves everything as it was
  } else {
    models_.reset();  // the exact path is off for this buffer; free its memory
  }
  fresh_ = fresh_ && fresh;
  const double sw = c.staleness_weight * static_cast<double>(w);
  for (size_t i = 0; i < delta_sum_.size(); ++i) {
    const at::Tensor delta = (*c.trained)[i].tensor.to(at::kDouble) - (*c.base)[i].tensor.to(at::kDouble);
    delta_sum_[i].add_(delta, sw);
  }
  total_weight_ += w;
  ++count_;
  Absorbed out{std::nullopt, sw};
  if (count_ == options_.buffer_size) {
    // flush() cannot fail here: every weight is > 0 (the server checks num_samples), so the
    // buffer is cleared either way rather than left full.
    auto next = flush(*c.global);
    clear();
    if (!next.ok()) return next.status();
    out.model = std::move(next).value();
  }
  return out;
}

StatusOr<ModelState> FedBuff::flush(const ModelState& global) {
  if (fresh_) {
    // FedAvg's own computation (aggregators/fed_avg.cc): the exact weighted mean, then the server step.
    ASSIGN_OR_RETURN(ModelState mean, models_->mean());
    return apply_server_lr(global, std::move(mean), options_.server_lr);
  }
  const double scale = options_.server_lr / static_cast<double>(total_weight_);
  ModelState next;
  for (size_t i = 0; i < global.size(); ++i) {
    const at::Tensor& x = global[i].tensor;
    at::Tensor moved = x.to(at::kDouble) + delta_sum_[i] * scale;
    if (!x.is_floating_point()) moved = at::round(moved);
    next.add(global[i].name, moved.to(x.scalar_type()));
  }
  return next;
}

void FedBuff::clear() {
  count_ = 0;
  total_weight_ = 0;
  delta_sum_.clear();
  models_.reset();
  fresh_ = true;
}

}  // namespace flotilla
