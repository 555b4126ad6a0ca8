// Fuzzes the wire decoder, flotilla::decode: what a coordinator or client does with every
// multipart message a peer sends. The input is split into frames as tests/fuzz/frame_split.h
// describes (frame 0 the protobuf envelope, then tensor frames). Each frame gets its own heap
// buffer of exactly its size, so AddressSanitizer sees any read past a frame; odd-numbered frames
// start one byte into theirs, so both of decode's paths (aliasing an aligned frame, copying a
// misaligned one) run.
//
// Properties: a malformed message is a Status naming the problem, never Internal (which means a
// library threw: the decoder let something through that it should have refused). Decoded tensors
// are contiguous with strides that fit in int64 (torch does not check). A message that
// decodes re-encodes into one that decodes again, of the same kind, with the same frame count and
// bit-identical tensor frames. A violation traps (a crash to libFuzzer).
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <variant>

#include "frame_split.h"
#include "fuzz_checks.h"
#include "protocol/codec.h"

namespace {

flotilla::Frames to_frames(const std::vector<std::string_view>& parts) {
  flotilla::Frames frames;
  for (size_t i = 0; i < parts.size(); ++i) {
    const size_t shift = i % 2;
    std::shared_ptr<char[]> buffer(new char[parts[i].size() + shift]);
    if (!parts[i].empty()) std::memcpy(buffer.get() + shift, parts[i].data(), parts[i].size());
    const char* data = buffer.get() + shift;
    frames.push_back(flotilla::Frame::from_owner(std::move(buffer), data, parts[i].size()));
  }
  return frames;
}

// The state a message carries, if its kind carries one.
const flotilla::ModelState* state_of(const flotilla::Message& message) {
  return std::visit(
      [](const auto& body) -> const flotilla::ModelState* {
        if constexpr (requires { body.state; }) {
          return &body.state;
        } else if constexpr (requires { body.masked; }) {
          return &body.masked;
        } else {
          return nullptr;
        }
      },
      message);
}

// Torch computes a contiguous tensor's strides (the products of the later dimensions, a 0 counted
// as 1) in int64 without overflow checks: a shape whose strides overflow makes a tensor whose
// metadata is garbage, even when a zero dimension leaves it empty.
bool strides_fit(const at::Tensor& t) {
  int64_t expected = 1;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    if (t.stride(d) != expected) return false;
    if (d > 0 && __builtin_mul_overflow(expected, std::max<int64_t>(t.size(d), 1), &expected)) return false;
  }
  return true;
}

using flotilla::fuzz::fail;

}  // namespace

// Protobuf logs an ERROR for every string field that is not UTF-8 (then the parse fails, which
// decode reports); at thousands of inputs a second that log is most of the fuzzer's time.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const flotilla::Frames frames = to_frames(flotilla::fuzz::split_frames({reinterpret_cast<const char*>(data), size}));
  const auto first = flotilla::decode(frames);
  if (!first.ok()) {
    if (first.status().code() == flotilla::StatusCode::kInternal)
      fail("unchecked input reached a library:", first.status());
    return 0;
  }
  if (const flotilla::ModelState* state = state_of(*first)) {
    for (const auto& e : state->entries()) {
      if (!e.tensor.is_contiguous() || !strides_fit(e.tensor)) fail("decoded a tensor whose strides overflow");
    }
  }

  const flotilla::Frames again = flotilla::encode(*first);
  const auto second = flotilla::decode(again);
  if (!second.ok()) fail("a decoded message re-encodes into one that does not decode:", second.status());
  if (second->index() != first->index()) fail("the round trip changed the message kind");
  if (again.size() != frames.size()) fail("the round trip changed the frame count");
  for (size_t i = 1; i < frames.size(); ++i) {
    if (frames[i].view() != again[i].view()) fail("the round trip changed a tensor frame");
  }
  return 0;
}
