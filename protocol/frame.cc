#include "protocol/frame.h"

namespace flotilla {

Frame Frame::from_string(std::string bytes) {
  auto owned = std::make_shared<std::string>(std::move(bytes));
  Frame f;
  f.data_ = owned->data();
  f.size_ = owned->size();
  f.owner_ = std::move(owned);
  return f;
}

Frame Frame::from_owner(std::shared_ptr<const void> owner, const void* data, size_t size) {
  Frame f;
  f.owner_ = std::move(owner);
  f.data_ = data;
  f.size_ = size;
  return f;
}

size_t frames_byte_size(const Frames& frames) {
  size_t total = 0;
  for (const auto& f : frames) total += f.size();
  return total;
}

}  // namespace flotilla
