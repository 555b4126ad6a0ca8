// Fixed-width little-endian integers in the collectives' small header frames, so a header reads
// the same on every rank whatever the host byte order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace flotilla::le {

inline void put(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// `in` must hold offset + bytes bytes (callers check the frame size first).
inline uint64_t get(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= uint64_t{static_cast<unsigned char>(in[offset + i])} << (8 * i);
  return value;
}

}  // namespace flotilla::le
