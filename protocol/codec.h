// Codec: Message <-> frames. Frame 0 is the protobuf Envelope; a message carrying a model state
// is followed by one frame per tensor holding its raw bytes. Encoding does not copy tensor data
// (frames keep the tensors alive); decoding wraps the received frames without copying when they
// are suitably aligned.
//
// decode() validates everything: frame count, protocol version, dtype, shapes, frame sizes
// against shapes and dtypes, duplicate names, enumerated strings (TrainConfig::augment). A
// malformed message is a DataLoss or InvalidArgument Status naming the problem, never a crash.
#pragma once

#include "core/status.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace flotilla {

// Largest tensor a header may describe, in bytes: no ceiling on real models (what a peer can make
// the process hold is bounded by the transport's receive limits, derived from the model); it only
// keeps byte counts and torch's stride arithmetic within int64 whatever a header claims.
inline constexpr int64_t kMaxTensorBytes = int64_t{1} << 62;  // 4 EiB
// Bounds on what a round task may ask of a client (the decoder refuses more).
inline constexpr double kMaxDelaySeconds = 86400;  // RoundTask.delay_seconds, a collective's timeout
inline constexpr int kMaxCollectivePeers = 65536;  // members of one decentralised group
inline constexpr int kMaxLocalThreads = 256;       // TrainConfig.local_threads (training/hogwild.h)
// Bounds on what a client may report of its own data (protocol 8's DataReport) and on a train
// config's normalisation.
inline constexpr size_t kMaxSampleRank = 8;
inline constexpr int64_t kMaxSampleExtent = int64_t{1} << 24;
inline constexpr int64_t kMaxClasses = int64_t{1} << 20;
inline constexpr size_t kMaxChannels = size_t{1} << 16;
// Bounds on a secure aggregation step (protocol 10): clients named, field elements per Shamir
// share (a 32-byte secret takes 5), bytes of one client's sealed pair of shares.
inline constexpr int kMaxSecAggParticipants = 65536;
inline constexpr int kMaxSecAggShareValues = 64;
inline constexpr size_t kMaxSecAggSealedBytes = 4096;

// Tensors must be on CPU; non-contiguous ones are made contiguous (one copy).
Frames encode(const Message& message);

StatusOr<Message> decode(const Frames& frames);

}  // namespace flotilla
