// UpdateCodec: compresses a client's model update (the trained model minus the global model it
// started from, see compression/delta.h) for the wire, and decodes and validates it on the
// coordinator. A payload is itself a ModelState, so it travels in the protocol's tensor frames.
//
// Payload formats, for a floating-point tensor "w" of n elements (s = levels, b = bucket):
//   codec  payload tensors                                          decoded element i
//   none   "w"       w's dtype and shape                            w[i]
//   fp16   "w#fp16"  float16, w's shape                             cast to w's dtype
//   bf16   "w#bf16"  bfloat16, w's shape                            cast to w's dtype
//   qsgd   "w#q8"    int8 [n], every level in [-s, s]               scale[i / b] * q[i] / s
//          "w#scale" float32 [ceil(n / b)], finite and >= 0
//   topk   "w#idx"   int32 [k] (int64 when n >= 2^31), strictly     val[j] where idx[j] == i,
//                    increasing, in [0, n)                          0 elsewhere
//          "w#val"   float32 [k], finite; k = min(n, max(1, round(ratio * n)))
// Integer and bool tensors (BatchNorm's num_batches_tracked) travel under their own names with
// their own dtype and shape, as they are. Entries follow the model's order, but decode does not
// depend on the order. '#' never occurs in PyTorch state_dict names (they are attribute paths), so
// the suffixes cannot clash with a real name; a model name containing '#' is refused.
// Sizes, with 4-byte float32 deltas: fp16/bf16 1/2, qsgd 1/4 + 4 bytes per bucket, topk
// 8 bytes per kept entry (2 * ratio of the float32 size).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/model_state.h"
#include "core/registry.h"
#include "core/status.h"

namespace flotilla {

// Stateless once built: encode() and decode() may be called from several threads at once. They
// compute on the CPU (tensors elsewhere are copied there first) and return CPU tensors.
class UpdateCodec {
 public:
  virtual ~UpdateCodec() = default;

  // Compresses `delta`. Only floating-point tensors are compressed; the others are copied. The
  // payload may share tensors with `delta`.
  // `seed`: the randomness of stochastic codecs (qsgd); same seed, same payload. Give each
  // (round, client) its own seed, or the quantisation errors of clients correlate.
  // `residual` (error feedback; nullptr = none): the part of earlier updates not yet sent, with
  // `delta`'s layout, or empty on first use (then taken as zeros). encode compresses
  // delta + residual and leaves in `residual` what the payload did not carry:
  //   decode(payload) + new residual == delta + old residual (computed in delta's dtype),
  // exactly for none and topk (sent entries are copied, the others kept), up to the rounding of
  // one subtraction for fp16, bf16 and qsgd. Summed over rounds: decoded updates plus the final
  // residual equal the sum of the deltas up to float rounding of the additions. Any codec accepts
  // a residual; wants_error_feedback() says whether this one should be given one.
  // Errors: InvalidArgument for a non-finite delta, a residual of another layout, a value beyond
  // the wire format's range (fp16's 65504), a name containing '#'. On error `residual` is unchanged.
  StatusOr<ModelState> encode(const ModelState& delta, uint64_t seed, ModelState* residual = nullptr) const;

  // Rebuilds a delta from a payload that may come from a malicious client. `layout`: the model's
  // layout (e.g. the global model; only names, dtypes and shapes are read). Checks everything:
  // the set of payload names (none missing, none extra, no duplicates), every dtype and shape,
  // index ranges and order, levels, scales and values finite; memory allocated is bounded by
  // `layout`, whatever the payload says. Returns a finite delta with exactly `layout`'s names,
  // dtypes and shapes, contiguous, on the CPU. Any problem: InvalidArgument naming the tensor.
  StatusOr<ModelState> decode(const ModelState& payload, const ModelState& layout) const;

  // Whether the caller should keep a residual per client and pass it to encode() (topk: yes by
  // default; without it the entries never sent are lost, and convergence suffers).
  virtual bool wants_error_feedback() const { return false; }

 protected:
  // The payload names of floating-point tensor `name`, in the order encode_tensor appends them.
  virtual std::vector<std::string> payload_names(const std::string& name) const = 0;

  // Appends the payload of one floating-point tensor: `x` is finite, contiguous, on the CPU.
  // `seed` is already specific to this tensor.
  virtual Status encode_tensor(const std::string& name, const at::Tensor& x, uint64_t seed,
                               ModelState& payload) const = 0;

  // Decodes one floating-point tensor from `parts`: the payload tensors named payload_names(),
  // in that order, dense, contiguous, on the CPU, but otherwise unchecked. Returns a finite
  // tensor of `like`'s shape in any floating dtype (decode() casts it to like's), or
  // InvalidArgument naming the payload tensor and the problem.
  virtual StatusOr<at::Tensor> decode_tensor(const std::vector<NamedTensor>& parts, const at::Tensor& like) const = 0;
};

using CodecRegistry = Registry<UpdateCodec>;

// Adds "none", "fp16", "bf16", "qsgd" and "topk" with their options.
Status register_builtin_codecs(CodecRegistry& registry);

// The built-in codecs, registered on first use; its entries() (name, description, options with
// defaults) serve --help. Thread-safe.
const CodecRegistry& builtin_codecs();

}  // namespace flotilla
