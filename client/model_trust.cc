#include "client/model_trust.h"

#include "core/digest.h"
#include "core/log.h"
#include "models/torchscript_archive.h"

namespace flotilla {

Status accept_run_model(const std::string& model_name, const std::string& shipped_archive, const ModelTrust& trust) {
  if (!is_torchscript_model(model_name)) {
    if (!trust.pinned_sha256.empty())
      return failed_precondition_error("this client is pinned to TorchScript archive " + trust.pinned_sha256 +
                                       " (--model-sha256); the run's model is '" + model_name + "'");
    if (!trust.own_sha256.empty())
      return failed_precondition_error("this client was given a TorchScript archive (--model); the run's model is '" +
                                       model_name + "'");
    return Status();
  }
  ASSIGN_OR_RETURN(const std::string sha, torchscript_sha_of(model_name));
  if (!trust.pinned_sha256.empty() && trust.pinned_sha256 != sha)
    return permission_denied_error("the run's model is TorchScript archive " + sha + ", and this client is pinned to " +
                                   trust.pinned_sha256 + " (--model-sha256): refusing to run another archive");
  if (!trust.own_sha256.empty()) {
    if (trust.own_sha256 != sha)
      return failed_precondition_error("this client's TorchScript archive (--model) has SHA-256 " + trust.own_sha256 +
                                       ", the run's has " + sha + ": the two sides would train different models");
    FLOTILLA_LOG(Info) << "model: TorchScript archive " << sha << " (this client's own copy)";
    return Status();
  }
  if (shipped_archive.empty()) {
    if (find_torchscript_archive(sha)) return Status();  // accepted at an earlier welcome
    return failed_precondition_error("the run's model is TorchScript archive " + sha +
                                     " and the coordinator did not ship it: start this client with --model "
                                     "torchscript:PATH naming its own copy");
  }
  const std::string got = sha256_hex(shipped_archive);
  if (got != sha)
    return data_loss_error("the shipped TorchScript archive has SHA-256 " + got + ", the run names " + sha);
  if (trust.pinned_sha256.empty() && !trust.trust_shipped)
    return permission_denied_error(
        "the coordinator ships TorchScript archive " + sha + " (" + std::to_string(shipped_archive.size()) +
        " bytes), which is code this client would run. Accept it with --model-sha256 " + sha +
        " (pins this archive) or --trust-coordinator-model, or give this client its own copy with --model "
        "torchscript:PATH");
  RETURN_IF_ERROR(add_torchscript_archive(shipped_archive).status().with_context("the shipped TorchScript archive"));
  FLOTILLA_LOG(Info) << "model: TorchScript archive " << sha << " shipped by the coordinator ("
                     << shipped_archive.size() << " bytes), accepted by "
                     << (trust.pinned_sha256.empty() ? "--trust-coordinator-model" : "--model-sha256");
  return Status();
}

}  // namespace flotilla
