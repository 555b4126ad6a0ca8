// TorchScript archives: models defined in Python (torch.jit.script(model).save("net.pt"), or
// torch.jit.trace) that Flotilla trains as it trains its own (models/torchscript_model.h).
//
// An archive is known by the SHA-256 of its bytes, and the model name that travels in
// Experiment.model is "torchscript:<sha256>": the name says exactly which network and initial
// weights every party builds, and a party that lacks the bytes can tell which ones to ask for.
// A user types "torchscript:PATH"; resolve_model_name() turns that into the digest name.
//
// The archives live in one process-wide store, so that create_model() can build a model from its
// name alone (as it does for the built-in ones). The store only grows: an archive stays for the
// life of the process (one per experiment, a few MB at most, and models built from it may be
// rebuilt at any time, e.g. Hogwild's replicas). Every function here is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace flotilla {

inline constexpr std::string_view kTorchScriptPrefix = "torchscript:";

// Checks that torch::jit::load() takes `bytes` and that the module has a forward method
// (InvalidArgument with the loader's message otherwise), stores them and returns their
// SHA-256 (64 lowercase hex digits). Adding the same bytes twice is fine and returns the same digest.
StatusOr<std::string> add_torchscript_archive(std::string bytes);

// add_torchscript_archive() of the file's bytes; NotFound naming `path` when it cannot be read.
StatusOr<std::string> add_torchscript_archive_file(const std::string& path);

// The stored bytes of archive `sha256`, or null when the store does not have it.
std::shared_ptr<const std::string> find_torchscript_archive(const std::string& sha256);

// Whether `model_name` starts with kTorchScriptPrefix (a digest name or a path a user typed).
bool is_torchscript_model(const std::string& model_name);

// "torchscript:<sha256>".
std::string torchscript_model_name(const std::string& sha256);

// The digest of a "torchscript:<sha256>" name; InvalidArgument for anything else (a path, a
// digest in upper case or of the wrong length, a built-in model's name).
StatusOr<std::string> torchscript_sha_of(const std::string& model_name);

// What a user typed (--model) -> the model's identity, the name every party builds from:
//  - "torchscript:PATH": reads and adds the archive (errors as add_torchscript_archive_file()),
//    returns "torchscript:<sha256>";
//  - "torchscript:<sha256>": returned as it is when the store has that archive; NotFound
//    otherwise (the archive must be given as a path, or shipped by whoever has it);
//  - any other name is returned unchanged (create_model() judges it).
// A PATH that is itself 64 lowercase hex digits is taken for a digest: write "./PATH".
StatusOr<std::string> resolve_model_name(const std::string& name);

}  // namespace flotilla
