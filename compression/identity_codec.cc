#include "compression/identity_codec.h"

#include "compression/payload_checks.h"

namespace flotilla {

std::vector<std::string> IdentityCodec::payload_names(const std::string& name) const { return {name}; }

Status IdentityCodec::encode_tensor(const std::string& name, const at::Tensor& x, uint64_t, ModelState& payload) const {
  payload.add(name, x);
  return Status();
}

StatusOr<at::Tensor> IdentityCodec::decode_tensor(const std::vector<NamedTensor>& parts, const at::Tensor& like) const {
  RETURN_IF_ERROR(expect_dtype_and_shape(parts[0], like.scalar_type(), like.sizes()));
  RETURN_IF_ERROR(expect_finite(parts[0]));
  return parts[0].tensor;
}

CodecRegistry::Entry IdentityCodec::registry_entry() {
  return {"none", "no compression: the update as it is", {}, [](const Options&) {
            return StatusOr<std::unique_ptr<UpdateCodec>>(std::unique_ptr<UpdateCodec>(new IdentityCodec()));
          }};
}

}  // namespace flotilla
