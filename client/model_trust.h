// ModelTrust: which TorchScript archive a client agrees to run. A coordinator can ship the run's
// archive at registration, but an archive is code, and running code that a coordinator sent must
// be the client operator's decision, not a default nobody saw: a client runs a shipped archive only
// when it was started with that archive's SHA-256 (--model-sha256, a pin) or with
// --trust-coordinator-model. A client with its own copy (--model torchscript:PATH) runs that copy
// and refuses a run of any other archive.
#pragma once

#include <string>

#include "core/status.h"

namespace flotilla {

struct ModelTrust {
  std::string own_sha256;      // of the archive given with --model torchscript:PATH (in the store); empty: none
  std::string pinned_sha256;   // --model-sha256: the one archive this client runs; empty: no pin
  bool trust_shipped = false;  // --trust-coordinator-model: run whatever archive the coordinator ships
};

// Checks the run's model name (Experiment::model) against what this client accepts and, for a
// shipped archive it accepts, adds the archive to the process's store (models/torchscript_archive.h)
// so that create_model() finds it. OK for a built-in model unless the client is pinned or has an
// archive of its own. PermissionDenied for an archive the client did not agree to run (the message
// says how to agree), FailedPrecondition for another archive than the client's own, DataLoss for a
// shipped archive whose digest is not the one the run names.
Status accept_run_model(const std::string& model_name, const std::string& shipped_archive, const ModelTrust& trust);

}  // namespace flotilla
