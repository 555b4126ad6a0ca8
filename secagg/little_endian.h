// Little-endian integers in byte strings: how secure aggregation's shares and sealed messages lay
// out their numbers, the same on every machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace flotilla::secagg {

inline void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

inline void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// The `width`-byte little-endian integer at bytes[at..at+width) (width <= 8; the caller checks
// the length).
inline uint64_t get_le(std::span<const uint8_t> bytes, size_t at, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v |= static_cast<uint64_t>(bytes[at + i]) << (8 * i);
  return v;
}

}  // namespace flotilla::secagg
