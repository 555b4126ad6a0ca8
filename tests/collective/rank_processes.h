// Runs the ranks of a collective as real processes: fork()ed from the test, each with its own
// ZeroMQ context, talking over ipc:// endpoints in a fresh folder (no ports to race for).
//
// fork() is safe here because the parent test never starts ZeroMQ and runs LibTorch with one
// thread (set when this file's object is loaded), so no thread pool is lost in the children.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "collective/zmq_peer_transport.h"

namespace flotilla::testing {

// A fresh folder under $TMPDIR (or /tmp), removed with its files on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ipc://<dir>/rank-<r> for r in [0, n).
std::vector<PeerInfo> ipc_group(const std::string& dir, int n);

struct RankOutcome {
  bool exited = false;     // false: killed by a signal (`signal`), or by run_ranks at the limit
  int exit_code = -1;      // 0 when the body returned ""
  int signal = 0;          // the signal that ended it, if any
  bool timed_out = false;  // still running at the limit (then killed)
  std::string error;       // what the body returned
};

// Forks `n` processes; process r runs body(r) and exits 0 if it returns "", else 1 with the
// string saved for the parent. Exceptions count as errors. Waits up to `limit` for all, kills the
// rest. Before exiting, a child ends its ZeroMQ context (bounded wait) so its last messages go out.
std::vector<RankOutcome> run_ranks(const std::string& dir, int n, std::chrono::milliseconds limit,
                                   const std::function<std::string(int rank)>& body);

// "" when every rank exited 0, else a line per failed rank.
std::string failures(const std::vector<RankOutcome>& outcomes);

// Raw float32 values of `values` (made contiguous), and back.
void write_floats(const std::string& path, const at::Tensor& values);
at::Tensor read_floats(const std::string& path);

}  // namespace flotilla::testing
