// ClientStateStore: what each logical client's algorithm half keeps between its tasks (SCAFFOLD's
// control variate, FedDyn's dual variable, MOON's previous model), for every logical client a
// process hosts.
//
// Memory is bounded: states live in memory up to a budget; past it, the least recently used are
// written to files under the state folder and read back when their client trains again. So 1,000
// logical clients of a model-sized state each cost the budget in memory and the rest on disk.
//
// States are versioned by round. A task of round r reads the newest state saved by a round before
// r, so a coordinator that resumes from a checkpoint and re-runs round r finds the state round
// r-1 left, not the one its lost attempt at round r wrote: resumed runs stay bit-identical. The
// newest kVersionsKept versions per client are kept (a resumed coordinator goes back at most to
// its oldest kept checkpoint).
//
// With a folder given by the user (--client-state-dir) every state is also written there when
// saved, so a restarted client process picks its clients' states up again; the folder is tagged
// with the experiment and algorithm, and files of another are ignored. Without one, spilled files
// go to a private temporary folder removed with the store.
//
// Thread-safety: none (the client's worker thread owns it).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

struct ClientStateStoreOptions {
  std::string dir;                                   // empty: a private temporary folder, when needed
  int64_t memory_budget_bytes = int64_t{512} << 20;  // states kept in memory, all clients together
};

class ClientStateStore {
 public:
  static constexpr int kVersionsKept = 3;

  explicit ClientStateStore(ClientStateStoreOptions options);
  ~ClientStateStore();
  ClientStateStore(const ClientStateStore&) = delete;
  ClientStateStore& operator=(const ClientStateStore&) = delete;

  // What states are for: e.g. "mnist/mnist_cnn/10 clients/dirichlet/seed 0/scaffold". States saved
  // under another tag (an earlier experiment in the same folder) are not returned. Changing it
  // forgets the states in memory.
  void set_tag(std::string tag);

  // The state `client_id` saved in its newest round before `round`; empty when there is none (its
  // first task). DataLoss/Unavailable when a spilled file cannot be read back.
  StatusOr<ModelState> load(int client_id, int round);

  // Keeps `state` (moved to the CPU) as what client_id's task of `round` left, replacing one of
  // the same round.
  Status save(int client_id, int round, const ModelState& state);

  int64_t bytes_in_memory() const { return bytes_in_memory_; }
  int64_t files_written() const { return files_written_; }

 private:
  struct Version {
    ModelState state;  // empty when only on disk
    int64_t bytes = 0;
    bool on_disk = false;
    uint64_t last_use = 0;
  };
  using Versions = std::map<int, Version>;  // by round

  Status ensure_dir();
  std::string file_of(int client_id, int round) const;
  Versions& versions_of(int client_id);  // reads the folder's index on first use of a client
  Status write_file(int client_id, int round, const ModelState& state);
  Status spill_until_within_budget();
  void drop(int client_id, int round, Version& v);

  ClientStateStoreOptions options_;
  bool private_dir_ = false;
  std::string tag_;
  std::map<int, Versions> clients_;
  int64_t bytes_in_memory_ = 0;
  int64_t files_written_ = 0;
  uint64_t clock_ = 0;
};

}  // namespace flotilla
