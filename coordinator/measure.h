// How the coordinator measures and prints what a round took: durations on the steady clock,
// timestamps (metrics.jsonl's finished_unix) on the wall clock, traffic in megabytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace flotilla {

inline double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Seconds since the epoch.
inline double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "26.6MB", as the round lines print traffic.
inline std::string megabytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fMB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace flotilla
