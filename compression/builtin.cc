#include "compression/cast_codec.h"
#include "compression/identity_codec.h"
#include "compression/qsgd_codec.h"
#include "compression/topk_codec.h"

namespace flotilla {

Status register_builtin_codecs(CodecRegistry& registry) {
  for (auto entry : {IdentityCodec::registry_entry(), CastCodec::fp16_entry(), CastCodec::bf16_entry(),
                     QsgdCodec::registry_entry(), TopKCodec::registry_entry()})
    RETURN_IF_ERROR(registry.add(std::move(entry)));
  return Status();
}

const CodecRegistry& builtin_codecs() {
  static const CodecRegistry* registry = [] {
    auto* r = new CodecRegistry("codec");
    FLOTILLA_CHECK(register_builtin_codecs(*r).ok());
    return r;
  }();
  return *registry;
}

}  // namespace flotilla
