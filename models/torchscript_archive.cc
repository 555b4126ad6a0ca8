#include "models/torchscript_archive.h"

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/digest.h"
#include "models/torch_errors.h"

namespace flotilla {
namespace {

class ArchiveStore {
 public:
  static ArchiveStore& instance() {
    static ArchiveStore store;  // never destroyed before its last user: models only read copies of the pointer
    return store;
  }

  // The stored pointer for `sha256` (the first bytes stored under it win; equal digests mean equal bytes).
  std::shared_ptr<const std::string> add(const std::string& sha256, std::string bytes) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = archives_.try_emplace(sha256, nullptr);
    if (inserted) it->second = std::make_shared<const std::string>(std::move(bytes));
    return it->second;
  }

  std::shared_ptr<const std::string> find(const std::string& sha256) const {
    std::lock_guard lock(mutex_);
    auto it = archives_.find(sha256);
    return it == archives_.end() ? nullptr : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const std::string>> archives_;
};

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

StatusOr<std::string> add_torchscript_archive(std::string bytes) {
  // Loading compiles the archive's code and unpickles its tensors: the only complete check that
  // every party will be able to build the model. Cheap next to training it.
  try {
    std::istringstream in(bytes);
    torch::jit::Module module = torch::jit::load(in, c10::Device(c10::kCPU));
    if (!module.find_method("forward"))
      return invalid_argument_error("the TorchScript archive's module has no forward method");
  } catch (const std::exception& e) {
    return invalid_argument_error("not a loadable TorchScript archive: " + torch_error_message(e));
  }
  std::string sha256 = sha256_hex(bytes);
  ArchiveStore::instance().add(sha256, std::move(bytes));
  return sha256;
}

StatusOr<std::string> add_torchscript_archive_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found_error("cannot open TorchScript archive '" + path + "': " + std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return not_found_error("cannot read TorchScript archive '" + path + "'");
  auto sha256 = add_torchscript_archive(std::move(bytes).str());
  if (!sha256.ok()) return sha256.status().with_context("TorchScript archive '" + path + "'");
  return sha256;
}

std::shared_ptr<const std::string> find_torchscript_archive(const std::string& sha256) {
  return ArchiveStore::instance().find(sha256);
}

bool is_torchscript_model(const std::string& model_name) { return model_name.starts_with(kTorchScriptPrefix); }

std::string torchscript_model_name(const std::string& sha256) { return std::string(kTorchScriptPrefix) + sha256; }

StatusOr<std::string> torchscript_sha_of(const std::string& model_name) {
  if (!is_torchscript_model(model_name) ||
      !is_sha256_hex(std::string_view(model_name).substr(kTorchScriptPrefix.size())))
    return invalid_argument_error("'" + model_name +
                                  "' is not a TorchScript model's identity (torchscript: and 64 lowercase hex digits)");
  return model_name.substr(kTorchScriptPrefix.size());
}

StatusOr<std::string> resolve_model_name(const std::string& name) {
  if (!is_torchscript_model(name)) return name;
  const std::string rest = name.substr(kTorchScriptPrefix.size());
  if (rest.empty()) return invalid_argument_error("model 'torchscript:' names no archive: write torchscript:PATH");
  if (is_sha256_hex(rest)) {
    if (!find_torchscript_archive(rest))
      return not_found_error("no TorchScript archive with SHA-256 " + rest +
                             " is loaded: give the archive as torchscript:PATH, or have it shipped here");
    return name;
  }
  ASSIGN_OR_RETURN(std::string sha256, add_torchscript_archive_file(rest));
  return torchscript_model_name(sha256);
}

}  // namespace flotilla
