#include "coordinator/update_intake.h"

#include "compression/delta.h"

namespace flotilla {

UpdateIntake::UpdateIntake(const Aggregator& rule, std::string aggregator_name, std::string compression,
                           std::unique_ptr<UpdateCodec> codec, ModelState expected_extras)
    : rule_(rule),
      aggregator_name_(std::move(aggregator_name)),
      compression_(std::move(compression)),
      codec_(std::move(codec)),
      expected_extras_(std::move(expected_extras)) {}

StatusOr<ClientUpdate> UpdateIntake::accept(msg::ClientUpdate& update, const ModelState& base) const {
  // A compressed update is decoded into the trained model first; the payload is checked against
  // the base model's layout by the codec, the result like any update.
  RETURN_IF_ERROR(decompress(update, base));
  RETURN_IF_ERROR(base.check_same_layout(update.state));
  RETURN_IF_ERROR(update.state.check_finite());
  // Extras are checked like the model: what the server half expects, by name, dtype and shape.
  RETURN_IF_ERROR(check_extras(update.extras));
  if (update.num_samples <= 0)
    return invalid_argument_error("reported " + std::to_string(update.num_samples) + " samples");
  ClientUpdate accepted(update.client_id, update.num_samples, std::move(update.state), update.train_loss, update.steps,
                        std::move(update.extras));
  RETURN_IF_ERROR(rule_.check_update(accepted));
  return accepted;
}

Status UpdateIntake::decompress(msg::ClientUpdate& update, const ModelState& base) const {
  if (update.compression != compression_)
    return invalid_argument_error("update compressed with '" + update.compression + "', this run uses '" +
                                  compression_ + "' (--compression)");
  if (!codec_) return Status();
  auto delta = codec_->decode(update.state, base);
  if (!delta.ok()) return delta.status().with_context("compressed update");
  ASSIGN_OR_RETURN(update.state, apply_delta(base, *delta));
  return Status();
}

Status UpdateIntake::check_extras(const ModelState& extras) const {
  if (expected_extras_.empty() && !extras.empty())
    return invalid_argument_error("sent " + std::to_string(extras.size()) + " extra tensor(s) (first: '" +
                                  extras[0].name + "'), but aggregator '" + aggregator_name_ + "' expects none");
  RETURN_IF_ERROR(expected_extras_.check_same_layout(extras).with_context("extras"));
  return extras.check_finite().with_context("extras");
}

void record_answer(const msg::ClientUpdate& update, int64_t wire_bytes, ClientRoundMetrics& row) {
  row.bytes_received = wire_bytes;
  row.num_samples = update.num_samples;
  row.train_loss = update.train_loss;
  row.train_seconds = update.train_seconds;
  row.total_seconds = update.total_seconds;
  row.local_steps = update.steps;
  row.extra = update.metrics;
}

}  // namespace flotilla
