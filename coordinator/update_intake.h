// UpdateIntake: turns a client's update message into an update an aggregation can take, or a
// reason to refuse it. Every training policy (sync rounds, async, collectives) takes updates
// through it, so a hostile or broken client is refused the same way whatever the mode:
// compressed payloads are decoded against the model the client started from, then the model is
// checked against that model's layout and for finite values, the extras against what the server
// half expects, the sample count, and the rule's own check_update(). Coordinator thread only.
#pragma once

#include <memory>
#include <string>

#include "aggregators/aggregator.h"
#include "compression/update_codec.h"
#include "coordinator/round_metrics.h"
#include "coordinator/upload_gate.h"
#include "core/model_state.h"
#include "core/status.h"
#include "protocol/messages.h"

namespace flotilla {

class UpdateIntake {
 public:
  // `compression`: the run's canonical codec spec; `codec` decodes it (null for "none").
  // `expected_extras`: the layout every update's extras must have (the server half's choice).
  UpdateIntake(const Aggregator& rule, std::string aggregator_name, std::string compression,
               std::unique_ptr<UpdateCodec> codec, ModelState expected_extras);

  // The update as the aggregation takes it, its model and extras moved out of `update` (the
  // message's other fields stay readable). `base`: the model this client's task carried.
  // InvalidArgument (or the codec's error) saying what is wrong otherwise.
  StatusOr<ClientUpdate> accept(msg::ClientUpdate& update, const ModelState& base) const;

  const ModelState& expected_extras() const { return expected_extras_; }

 private:
  Status decompress(msg::ClientUpdate& update, const ModelState& base) const;
  Status check_extras(const ModelState& extras) const;

  const Aggregator& rule_;
  std::string aggregator_name_;
  std::string compression_;
  std::unique_ptr<UpdateCodec> codec_;
  ModelState expected_extras_;
};

// What a client's answer says of its training, written into its row of the round: the update's
// wire bytes, samples, loss, times, steps and its own metrics (in `extra`). The same for every
// training policy; a policy files what it measured itself under `policy`.
void record_answer(const msg::ClientUpdate& update, int64_t wire_bytes, ClientRoundMetrics& row);

// The round's upload flow-control figures (ClientHub::take_upload_peaks) into its row.
inline void record_upload_peaks(const UploadGate::Peaks& peaks, RoundMetrics& metrics) {
  metrics.upload_peak_bytes = peaks.in_transit_bytes;
  metrics.uploads_waiting_peak = peaks.waiting;
}

}  // namespace flotilla
