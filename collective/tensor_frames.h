// How the collectives put float32 tensors on the wire and lay a list of tensors out as one buffer.
// A chunk message is two frames: a 16-byte tag (step, chunk, element count, little-endian) that
// lets the receiver check it runs the same step of the same collective as the sender, and the
// raw float32 values (host byte order: every rank of a group runs on the same kind of machine).
//
// Thread-safety: free functions without shared state.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "protocol/frame.h"

namespace flotilla {

struct ChunkTag {
  uint32_t step = 0;
  uint32_t chunk = 0;
  uint64_t numel = 0;
};

// The tag frame, then a frame with a copy of `values` (1-D float32 contiguous CPU). A copy, not a
// borrow: ZeroMQ sends in the background, and the collectives keep writing to their buffer.
Frames chunk_message(const ChunkTag& tag, const at::Tensor& values);

// A rank that gives up a collective tells the rank waiting on it why (tag step 0xffffffff, then the
// reason), so a failure travels around the ring at once instead of as a chain of timeouts.
Frames abort_message(const std::string& reason);
// The start of the Aborted message read_chunk_message returns for an abort message; the rest is
// the reason as the rank that gave up first wrote it (forwarders pass it on unchanged).
inline constexpr char kAbortedPrefix[] = "collective aborted: ";

// The values of a chunk message whose tag must equal `expected`, as a fresh 1-D float32 tensor.
// Aborted (kAbortedPrefix + reason) for an abort message; DataLoss naming `sender` when the shape is
// wrong or the tag differs (the ranks disagree about the collective they run, or a message was lost).
StatusOr<at::Tensor> read_chunk_message(const Frames& frames, const ChunkTag& expected, int sender);

// All tensors, flattened in order into one 1-D float32 CPU tensor. InvalidArgument naming the index
// (or `names[i]` when given) of an undefined or non-float32 tensor.
StatusOr<at::Tensor> flatten_float32(std::span<const at::Tensor> tensors, std::span<const std::string> names = {});

// Copies consecutive slices of `flat` back into `tensors` (any device, any strides), in order.
void unflatten_into(const at::Tensor& flat, std::span<at::Tensor> tensors);

}  // namespace flotilla
