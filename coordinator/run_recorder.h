// RunRecorder: writes a run directory.
//   config.json       the full run configuration
//   partition.csv     per-client class counts, classes held and EMD (and partition.json, with a
//                     summary); the format of partitioners/partition_report.h
//   metrics.jsonl     one JSON object per round, clients included
//   rounds.csv        one row per round
//   clients.csv       one row per (round, sampled client)
//   checkpoints/round_NNNN.pt, model_final.pt: the global model as a dict of tensors that
//                     Python's torch.load reads
// Files are flushed after every round, so a run that dies keeps what it measured.
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

  const std::string& dir() const { return dir_; }

  // `config_json` is a serialized JSON object.
  Status write_config(const std::string& config_json);
  // `class_counts` as Partition::class_counts returns them.
  Status write_partition(const std::vector<std::vector<int64_t>>& class_counts);
  Status record_round(const RoundMetrics& metrics);
  Status save_checkpoint(const ModelState& state, int round);
  Status save_final(const ModelState& state);

 private:
  explicit RunRecorder(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;
  std::ofstream jsonl_, rounds_csv_, clients_csv_;
  size_t num_classes_ = 0;
};

// Writes `state` as a pickled dict {name: tensor}.
Status save_state_dict(const ModelState& state, const std::string& path);

}  // namespace flotilla
