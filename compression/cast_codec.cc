#include "compression/cast_codec.h"

#include <ATen/ATen.h>

#include "compression/payload_checks.h"

namespace flotilla {

CastCodec::CastCodec(at::ScalarType wire, std::string suffix) : wire_(wire), suffix_(std::move(suffix)) {
  FLOTILLA_CHECK(wire == at::kHalf || wire == at::kBFloat16) << "CastCodec casts to 16-bit floats only";
}

std::vector<std::string> CastCodec::payload_names(const std::string& name) const { return {name + "#" + suffix_}; }

Status CastCodec::encode_tensor(const std::string& name, const at::Tensor& x, uint64_t, ModelState& payload) const {
  at::Tensor cast = x.to(wire_);
  if (!all_finite(cast))
    return invalid_argument_error("update tensor '" + name + "' has values beyond " + c10::toString(wire_) +
                                  "'s range (largest magnitude " + std::to_string(x.abs().max().item<double>()) + ")");
  payload.add(payload_names(name)[0], std::move(cast));
  return Status();
}

StatusOr<at::Tensor> CastCodec::decode_tensor(const std::vector<NamedTensor>& parts, const at::Tensor& like) const {
  RETURN_IF_ERROR(expect_dtype_and_shape(parts[0], wire_, like.sizes()));
  RETURN_IF_ERROR(expect_finite(parts[0]));
  return parts[0].tensor;
}

CodecRegistry::Entry CastCodec::fp16_entry() {
  return {
      "fp16", "floating-point tensors as float16 (half the bytes; magnitudes up to 65504)", {}, [](const Options&) {
        return StatusOr<std::unique_ptr<UpdateCodec>>(std::unique_ptr<UpdateCodec>(new CastCodec(at::kHalf, "fp16")));
      }};
}

CodecRegistry::Entry CastCodec::bf16_entry() {
  return {"bf16",
          "floating-point tensors as bfloat16 (half the bytes; float32's range, 8 significant bits)",
          {},
          [](const Options&) {
            return StatusOr<std::unique_ptr<UpdateCodec>>(
                std::unique_ptr<UpdateCodec>(new CastCodec(at::kBFloat16, "bf16")));
          }};
}

}  // namespace flotilla
