// Checkpoint files: a model and an optional second set of tensors with a round and two names, in
// a format of its own (no protobuf, no pickle), checksummed so that a torn or corrupt file is
// refused instead of read. The coordinator's run checkpoints (coordinator/checkpoint.h: the global
// model, the aggregator's state, the round, which configuration and rule wrote it) and the
// clients' state store (client/client_state_store.h) both write them, so the format lives here,
// below both.
//
// File layout (integers little-endian):
//   "FLOTCKPT"                      8 bytes, the magic
//   format version                  uint32 (kCheckpointFormatVersion)
//   header size H, data size D      uint64 each
//   header                          H bytes of JSON: {"round", "config_fingerprint", "aggregator",
//                                   "byte_order": "little", "tensors": [{"section": "model" or
//                                   "aggregator_state", "name", "dtype", "shape", "offset", "size"}]}
//   data                            D bytes: each tensor's raw contiguous bytes at its offset
//   SHA-256                         32 bytes over everything before it
// dtypes: float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool, complex64,
// complex128.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

inline constexpr uint32_t kCheckpointFormatVersion = 1;

struct Checkpoint {
  int round = 0;                   // rounds completed when it was written
  std::string config_fingerprint;  // identifies the run configuration (config_fingerprint())
  std::string aggregator;          // the rule's registry name
  ModelState model;                // the global model after `round`
  ModelState aggregator_state;     // Aggregator::save_state()
};

// OK when serialize_checkpoint can write `checkpoint`: round >= 0, every tensor defined, dense,
// of a dtype above, names unique per section, strings valid UTF-8. InvalidArgument naming the
// first problem otherwise.
Status validate_checkpoint(const Checkpoint& checkpoint);

// The bytes of a checkpoint file: magic + format version + a JSON header (round, fingerprint,
// aggregator, for each tensor: section, name, dtype, shape, offset, byte size) + raw tensor bytes
// + a SHA-256 of everything before it. Precondition (CHECKed): validate_checkpoint is OK.
// Tensors may live on any device; they are copied to the CPU.
std::string serialize_checkpoint(const Checkpoint& checkpoint);

// Validates everything (magic, version, sizes, checksum, header, dtypes, shapes vs sizes, offsets
// in range, no overlap, duplicate names, bool bytes) before building tensors; DataLoss naming the
// problem. Never crashes or allocates more than the input's size in tensors on any input. The
// tensors are CPU, contiguous, and own their memory.
StatusOr<Checkpoint> parse_checkpoint(std::string_view bytes);

// Atomic: writes path.tmp, fsyncs it, renames over path, fsyncs the folder (created if missing).
// InvalidArgument from validate_checkpoint; Unavailable for I/O failures.
Status write_checkpoint_file(const Checkpoint& checkpoint, const std::string& path);

// NotFound when the file does not exist; DataLoss (from parse_checkpoint) or Unavailable
// otherwise, the message starting with the path.
StatusOr<Checkpoint> read_checkpoint_file(const std::string& path);

}  // namespace flotilla
