// Throwaway CURVE keys for a local run, so that flotilla-run's traffic is encrypted and
// authenticated like a federation across hosts: one key pair for the coordinator, one per client
// process, and an allowlist giving each process exactly its id range. They live in the run's
// private temporary folder (mode 0700) and vanish with it.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "launcher/client_ranges.h"

namespace flotilla {

struct LaunchKeys {
  std::string coordinator_secret_file;
  std::string coordinator_public_file;
  std::string allowlist_file;
  std::vector<std::string> client_secret_files;  // one per client process, in range order

  // Flags that give the coordinator its key and the allowlist.
  std::vector<std::string> coordinator_args() const;
  // Flags that give client process `index` the coordinator's public key and its own key.
  std::vector<std::string> client_args(size_t index) const;
};

// Writes the keys and the allowlist into `dir`. Unavailable when they cannot be written,
// FailedPrecondition when this libzmq has no CURVE.
StatusOr<LaunchKeys> make_launch_keys(const std::string& dir, const std::vector<ClientRange>& ranges);

}  // namespace flotilla
