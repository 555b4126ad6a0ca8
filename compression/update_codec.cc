#include "compression/update_codec.h"

#include <ATen/ATen.h>

#include <exception>
#include <string_view>
#include <unordered_map>

#include "compression/counter_random.h"
#include "compression/payload_checks.h"

namespace flotilla {
namespace {

// Payload names add a '#'-suffix to model names; a model name with '#' could collide with one.
Status check_name(const std::string& name) {
  if (name.find('#') != std::string::npos)
    return invalid_argument_error("model tensor name '" + name + "' contains '#', which update payloads reserve");
  return Status();
}

at::Tensor cpu_contiguous(const at::Tensor& t) { return t.detach().to(at::kCPU).contiguous(); }

// A payload tensor as decode_tensor may read it: defined, dense, contiguous, on the CPU.
StatusOr<at::Tensor> readable(const NamedTensor& part) {
  if (!part.tensor.defined()) return invalid_argument_error("tensor '" + part.name + "' is undefined");
  if (part.tensor.layout() != at::kStrided)
    return invalid_argument_error("tensor '" + part.name + "' is not a dense tensor");
  // An expanded view (stride 0) would make contiguous() allocate far more than the payload holds.
  if (!part.tensor.is_contiguous() && part.tensor.numel() * static_cast<int64_t>(part.tensor.element_size()) >
                                          static_cast<int64_t>(part.tensor.storage().nbytes()))
    return invalid_argument_error("tensor '" + part.name + "' is a view larger than its data");
  return cpu_contiguous(part.tensor);
}

}  // namespace

StatusOr<ModelState> UpdateCodec::encode(const ModelState& delta, uint64_t seed, ModelState* residual) const {
  try {
    for (const auto& e : delta.entries()) RETURN_IF_ERROR(check_name(e.name));
    const bool add_residual = residual != nullptr && !residual->empty();
    if (add_residual) RETURN_IF_ERROR(delta.check_same_layout(*residual).with_context("error-feedback residual"));

    // What this round sends: delta + residual, in the delta's dtype.
    ModelState corrected;
    for (size_t i = 0; i < delta.size(); ++i) {
      const NamedTensor& e = delta[i];
      at::Tensor t = cpu_contiguous(e.tensor);
      if (t.is_floating_point()) {
        if (add_residual) t = t + cpu_contiguous((*residual)[i].tensor);
        if (!all_finite(t))
          return invalid_argument_error("update tensor '" + e.name + "' contains NaN or Inf" +
                                        (add_residual ? " (with the error-feedback residual added)" : ""));
      }
      corrected.add(e.name, std::move(t));
    }

    ModelState payload;
    for (size_t i = 0; i < corrected.size(); ++i) {
      const NamedTensor& e = corrected[i];
      if (e.tensor.is_floating_point()) {
        RETURN_IF_ERROR(encode_tensor(e.name, e.tensor, counter_bits(seed, i), payload));
      } else {
        payload.add(e.name, e.tensor);
      }
    }

    if (residual != nullptr) {
      // Whatever the payload does not carry stays for the next round. Decoding our own payload is
      // the one definition of "carried" for every codec; for top-k it leaves exactly the unsent
      // entries (x - x == 0, x - 0 == x).
      ASSIGN_OR_RETURN(ModelState decoded, decode(payload, corrected));
      ModelState next;
      for (size_t i = 0; i < corrected.size(); ++i) {
        const NamedTensor& e = corrected[i];
        if (e.tensor.is_floating_point()) {
          next.add(e.name, e.tensor - decoded[i].tensor);
        } else {
          next.add(e.name, residual->empty() ? at::zeros_like(e.tensor) : (*residual)[i].tensor);
        }
      }
      *residual = std::move(next);
    }
    return payload;
  } catch (const std::exception& e) {  // c10::Error from torch: not expected after the checks
    return internal_error(std::string("encoding an update: ") + e.what());
  }
}

StatusOr<ModelState> UpdateCodec::decode(const ModelState& payload, const ModelState& layout) const {
  try {
    // The names first, so that a wrong codec, a missing or an extra tensor is reported as such
    // before any per-tensor check. The index is bounded by the payload, which is already in memory.
    std::unordered_map<std::string_view, size_t> index;
    for (size_t i = 0; i < payload.size(); ++i) {
      if (!index.emplace(payload[i].name, i).second)
        return invalid_argument_error("payload has tensor '" + payload[i].name + "' twice");
    }
    std::vector<std::vector<std::string>> names(layout.size());
    size_t expected = 0;
    for (size_t i = 0; i < layout.size(); ++i) {
      const NamedTensor& e = layout[i];
      RETURN_IF_ERROR(check_name(e.name));
      names[i] = e.tensor.is_floating_point() ? payload_names(e.name) : std::vector<std::string>{e.name};
      for (const auto& name : names[i]) {
        if (!index.count(name)) return invalid_argument_error("payload lacks tensor '" + name + "'");
      }
      expected += names[i].size();
    }
    if (payload.size() != expected) {
      std::unordered_map<std::string_view, int> wanted;
      for (const auto& list : names)
        for (const auto& name : list) wanted.emplace(name, 0);
      for (const auto& e : payload.entries())
        if (!wanted.count(e.name)) return invalid_argument_error("payload has unexpected tensor '" + e.name + "'");
    }

    ModelState out;
    for (size_t i = 0; i < layout.size(); ++i) {
      const NamedTensor& like = layout[i];
      std::vector<NamedTensor> parts;
      for (const auto& name : names[i]) {
        const NamedTensor& part = payload[index.at(name)];
        ASSIGN_OR_RETURN(at::Tensor t, readable(part));
        parts.push_back({part.name, std::move(t)});
      }
      if (!like.tensor.is_floating_point()) {
        RETURN_IF_ERROR(expect_dtype_and_shape(parts[0], like.tensor.scalar_type(), like.tensor.sizes()));
        out.add(like.name, parts[0].tensor);
        continue;
      }
      ASSIGN_OR_RETURN(at::Tensor decoded, decode_tensor(parts, like.tensor));
      if (decoded.scalar_type() != like.tensor.scalar_type()) {
        // A value a narrower model dtype cannot hold (a float32 value above 65504 for a float16
        // model) would turn into Inf.
        decoded = decoded.to(like.tensor.scalar_type());
        RETURN_IF_ERROR(expect_finite({like.name, decoded}).with_context("decoded to the model's dtype"));
      }
      out.add(like.name, decoded.contiguous());
    }
    return out;
  } catch (const std::exception& e) {  // c10::Error from torch: not expected after the checks
    return internal_error(std::string("decoding an update: ") + e.what());
  }
}

}  // namespace flotilla
