// "topk": sparsification. Per floating-point tensor of n elements, keep the k largest magnitudes,
// k = min(n, max(1, round(ratio * n))) (rounded to nearest: ceil would turn 0.07 * 100 =
// 7.000000000000001 into 8), and drop the rest. Ties at the k-th magnitude keep the
// lower indices, so the selection is a function of the values alone (deterministic; no seed).
// Payload: "<name>#idx" int32 [k] (int64 when n >= 2^31), strictly increasing, and "<name>#val"
// float32 [k]: 8 bytes per kept entry, 2 * ratio of the float32 size. decode accepts exactly k
// entries: a client cannot send more than the run's ratio allows.
// Top-k is biased: without error feedback the small entries of every round are lost. With it
// (Stich et al. 2018, Karimireddy et al. 2019; on by default) the client keeps what it did not
// send and adds it to its next update, so every entry is sent eventually.
#pragma once

#include "compression/update_codec.h"

namespace flotilla {

struct TopKOptions {
  double ratio = 0.01;         // share of each tensor's entries sent, in (0, 1]
  bool error_feedback = true;  // wants_error_feedback()
};

class TopKCodec final : public UpdateCodec {
 public:
  explicit TopKCodec(TopKOptions options);

  bool wants_error_feedback() const override { return options_.error_feedback; }
  // The entries sent for a tensor of n elements.
  int64_t kept(int64_t n) const;

  // "topk" with options ratio (0.01) and error_feedback (1).
  static CodecRegistry::Entry registry_entry();

 protected:
  std::vector<std::string> payload_names(const std::string& name) const override;
  Status encode_tensor(const std::string& name, const at::Tensor& x, uint64_t seed, ModelState& payload) const override;
  StatusOr<at::Tensor> decode_tensor(const std::vector<NamedTensor>& parts, const at::Tensor& like) const override;

 private:
  TopKOptions options_;
};

}  // namespace flotilla
