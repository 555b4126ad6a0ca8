// Frame: one part of a multipart message, as a pointer and size plus an owner that keeps the
// bytes alive. Lets tensor bytes go to the socket and come back from it without copies: the
// owner is a tensor when sending, the received zmq message when receiving.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flotilla {

class Frame {
 public:
  Frame() = default;
  // Owns a copy of `bytes` (small frames: envelopes).
  static Frame from_string(std::string bytes);
  // Borrows [data, data+size) for as long as `owner` lives.
  static Frame from_owner(std::shared_ptr<const void> owner, const void* data, size_t size);

  const void* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {static_cast<const char*>(data_), size_}; }
  const std::shared_ptr<const void>& owner() const { return owner_; }

 private:
  std::shared_ptr<const void> owner_;
  const void* data_ = nullptr;
  size_t size_ = 0;
};

using Frames = std::vector<Frame>;

// Sum of every frame's size: the bytes a message puts on the wire (zmq's own framing aside).
size_t frames_byte_size(const Frames& frames);

}  // namespace flotilla
