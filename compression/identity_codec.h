// "none": the payload is the update itself. The baseline every other codec is measured against,
// and what a run without compression sends.
#pragma once

#include "compression/update_codec.h"

namespace flotilla {

class IdentityCodec final : public UpdateCodec {
 public:
  // "none", no options.
  static CodecRegistry::Entry registry_entry();

 protected:
  std::vector<std::string> payload_names(const std::string& name) const override;
  Status encode_tensor(const std::string& name, const at::Tensor& x, uint64_t seed, ModelState& payload) const override;
  StatusOr<at::Tensor> decode_tensor(const std::vector<NamedTensor>& parts, const at::Tensor& like) const override;
};

}  // namespace flotilla
