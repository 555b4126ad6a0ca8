// RunRecorder: writes a run directory.
//   config.json       the full run configuration
//   partition.csv     per-client class counts, classes held and EMD (and partition.json, with a
//                     summary); the format of partitioners/partition_report.h
//   metrics.jsonl     one JSON object per round, clients included
//   rounds.csv        one row per round
//   clients.csv       one row per (round, sampled client)
//   checkpoints/round_NNNN.pt, model_final.pt: the global model as a dict of tensors that
//                     Python's torch.load reads
//   checkpoints/round_NNNN.ckpt: what a resumed run starts from (coordinator/checkpoint.h; written
//                     by the coordinator, not here)
// Files are flushed after every round, so a run that dies keeps what it measured; resume() picks
// such a run up again from its last checkpoint.
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/round_metrics.h"
#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

class RunRecorder {
 public:
  // Creates `dir` (and checkpoints/); fails if it cannot.
  static StatusOr<std::unique_ptr<RunRecorder>> create(const std::string& dir);

  // Reopens the run in `dir` to go on after the checkpoint of round `last_round`: keeps from
  // metrics.jsonl, rounds.csv and clients.csv only the rows of rounds <= last_round (rows written
  // after that checkpoint, by a run killed between recording a round and checkpointing it, are
  // dropped so the resumed run writes them again: no round twice) and a final line without its
  // newline (torn by a kill mid-write), rewrites each file atomically, then appends to them.
  // NotFound naming a missing file; DataLoss naming the file and line of a row it cannot read.
  static StatusOr<std::unique_ptr<RunRecorder>> resume(const std::string& dir, int last_round);

  const std::string& dir() const { return dir_; }

  // `config_json` is a serialized JSON object.
  Status write_config(const std::string& config_json);
  // `class_counts` as Partition::class_counts returns them.
  Status write_partition(const std::vector<std::vector<int64_t>>& class_counts);
  Status record_round(const RoundMetrics& metrics);
  // The Python-readable model files; written atomically (write_file_atomically), so a reader or
  // a crash never leaves half a file.
  Status save_checkpoint(const ModelState& state, int round);
  Status save_final(const ModelState& state);

 private:
  explicit RunRecorder(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;
  std::ofstream jsonl_, rounds_csv_, clients_csv_;
  bool rounds_header_written_ = false;  // rounds.csv's header comes with the first round: it names the classes
  size_t num_classes_ = 0;
};

// Writes `state` as a pickled dict {name: tensor}, atomically.
Status save_state_dict(const ModelState& state, const std::string& path);

}  // namespace flotilla
