// "fp16" and "bf16": every floating-point tensor cast to a 16-bit float (round to nearest even),
// half the bytes of float32; the seed is not used. float16 keeps 11 significant bits (relative
// error <= 2^-11) for magnitudes in [6.1e-5, 65504]; below that it is subnormal, with a fixed
// absolute error <= 3e-8, which matters for updates of tiny learning rates; above 65504 encode
// refuses the update. bfloat16 keeps float32's range with 8 significant bits (relative error
// <= 2^-8) at every magnitude.
#pragma once

#include <c10/core/ScalarType.h>

#include <string>

#include "compression/update_codec.h"

namespace flotilla {

class CastCodec final : public UpdateCodec {
 public:
  // `wire`: kHalf or kBFloat16 (checked); payload tensors are named "<name>#<suffix>".
  CastCodec(at::ScalarType wire, std::string suffix);

  // "fp16" and "bf16", no options.
  static CodecRegistry::Entry fp16_entry();
  static CodecRegistry::Entry bf16_entry();

 protected:
  std::vector<std::string> payload_names(const std::string& name) const override;
  Status encode_tensor(const std::string& name, const at::Tensor& x, uint64_t seed, ModelState& payload) const override;
  StatusOr<at::Tensor> decode_tensor(const std::vector<NamedTensor>& parts, const at::Tensor& like) const override;

 private:
  at::ScalarType wire_;
  std::string suffix_;
};

}  // namespace flotilla
