// A run's checkpoints on disk: RUN/checkpoints/round_NNNN.ckpt, one per checkpointed round in
// the format of core/checkpoint_file.h; the newest valid one is what --resume starts from.
#pragma once

#include <string>
#include <vector>

#include "core/checkpoint_file.h"
#include "core/status.h"

namespace flotilla {

// Path of round r's checkpoint in a run directory: RUN/checkpoints/round_NNNN.ckpt (at least four
// digits; more from round 10000 on).
std::string checkpoint_path(const std::string& run_dir, int round);

// The newest checkpoint in RUN/checkpoints that reads back valid (and holds the round its name
// says); every newer one that does not is appended to `skipped` (may be null) as "path: reason"
// (the caller logs them). Files other than round_<digits>.ckpt (a leftover .tmp, the .pt files)
// are ignored. NotFound when none is valid.
StatusOr<Checkpoint> load_latest_checkpoint(const std::string& run_dir, std::vector<std::string>* skipped);

// Deletes .ckpt files of rounds older than the newest `keep` (>= 2, so a corrupt newest one still
// has a predecessor; InvalidArgument otherwise); the Python-readable round_NNNN.pt files are not
// touched. OK when there is no checkpoints folder.
Status prune_checkpoints(const std::string& run_dir, int keep);

}  // namespace flotilla
