#include "client/client_state_store.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <regex>

#include "core/atomic_file.h"
#include "core/checkpoint_file.h"
#include "core/log.h"

namespace fs = std::filesystem;

namespace flotilla {
namespace {

// Written in the checkpoint format (checksummed, validated on read) with this in its aggregator
// field, so a state file is never mistaken for a coordinator checkpoint or the other way round.
constexpr const char* kStateKind = "client_state";

}  // namespace

ClientStateStore::ClientStateStore(ClientStateStoreOptions options) : options_(std::move(options)) {}

ClientStateStore::~ClientStateStore() {
  if (!private_dir_) return;
  std::error_code ec;
  fs::remove_all(options_.dir, ec);
}

void ClientStateStore::set_tag(std::string tag) {
  if (tag == tag_) return;
  tag_ = std::move(tag);
  clients_.clear();
  bytes_in_memory_ = 0;
}

Status ClientStateStore::ensure_dir() {
  if (options_.dir.empty()) {
    std::random_device random;
    options_.dir = (fs::temp_directory_path() /
                    ("flotilla-client-state-" + std::to_string(::getpid()) + "-" + std::to_string(random())))
                       .string();
    private_dir_ = true;
  }
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) return unavailable_error("cannot create client state folder " + options_.dir + ": " + ec.message());
  return Status();
}

std::string ClientStateStore::file_of(int client_id, int round) const {
  return (fs::path(options_.dir) /
          ("client_" + std::to_string(client_id) + ".round_" + std::to_string(round) + ".state"))
      .string();
}

ClientStateStore::Versions& ClientStateStore::versions_of(int client_id) {
  auto [it, inserted] = clients_.try_emplace(client_id);
  // A folder the user named may hold states of an earlier process: index them (their tag is
  // checked when one is read).
  if (inserted && !options_.dir.empty() && !private_dir_) {
    const std::regex name("client_" + std::to_string(client_id) + "\\.round_([0-9]{1,9})\\.state");
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
      std::smatch m;
      const std::string file = entry.path().filename().string();
      if (std::regex_match(file, m, name)) it->second[std::stoi(m[1].str())].on_disk = true;
    }
  }
  return it->second;
}

Status ClientStateStore::write_file(int client_id, int round, const ModelState& state) {
  RETURN_IF_ERROR(ensure_dir());
  Checkpoint file;
  file.round = round;
  file.config_fingerprint = tag_;
  file.aggregator = kStateKind;
  file.model = state;
  RETURN_IF_ERROR(validate_checkpoint(file).with_context("client " + std::to_string(client_id) + " state"));
  RETURN_IF_ERROR(write_file_atomically(file_of(client_id, round), serialize_checkpoint(file)));
  ++files_written_;
  return Status();
}

void ClientStateStore::drop(int client_id, int round, Version& v) {
  bytes_in_memory_ -= v.bytes;
  v.bytes = 0;
  v.state = ModelState();
  if (v.on_disk) {
    std::error_code ec;
    fs::remove(file_of(client_id, round), ec);
  }
}

StatusOr<ModelState> ClientStateStore::load(int client_id, int round) {
  Versions& versions = versions_of(client_id);
  // Newest first, among the rounds before `round`.
  for (auto it = std::make_reverse_iterator(versions.lower_bound(round)); it != versions.rend(); ++it) {
    Version& v = it->second;
    v.last_use = ++clock_;
    // A copy: the algorithm may update its state in place, and this version must stay as it was
    // for a re-run of the round.
    if (!v.state.empty() || !v.on_disk) return v.state.clone();
    auto bytes = read_whole_file(file_of(client_id, it->first));
    if (!bytes.ok()) return bytes.status();
    auto file = parse_checkpoint(*bytes);
    if (!file.ok())
      return data_loss_error("client " + std::to_string(client_id) + " state " + file_of(client_id, it->first) + ": " +
                             file.status().message());
    if (file->aggregator != kStateKind || file->config_fingerprint != tag_ || file->round != it->first) {
      FLOTILLA_LOG(Warning) << "ignoring " << file_of(client_id, it->first) << ": a state of '"
                            << file->config_fingerprint << "', this run's is '" << tag_ << "'";
      continue;
    }
    return std::move(file->model);
  }
  return ModelState();
}

Status ClientStateStore::save(int client_id, int round, const ModelState& state) {
  Versions& versions = versions_of(client_id);
  Version& v = versions[round];
  drop(client_id, round, v);
  v.state = state.clone();  // deep: the algorithm may keep and change its tensors
  v.bytes = v.state.byte_size();
  v.on_disk = false;
  v.last_use = ++clock_;
  bytes_in_memory_ += v.bytes;
  if (!options_.dir.empty() && !private_dir_) {
    RETURN_IF_ERROR(write_file(client_id, round, v.state));
    v.on_disk = true;
  }
  while (static_cast<int>(versions.size()) > kVersionsKept) {
    drop(client_id, versions.begin()->first, versions.begin()->second);
    versions.erase(versions.begin());
  }
  return spill_until_within_budget();
}

Status ClientStateStore::spill_until_within_budget() {
  while (bytes_in_memory_ > options_.memory_budget_bytes) {
    // The least recently used state still in memory; O(versions), which is small next to writing
    // a model-sized file.
    int lru_client = -1, lru_round = 0;
    Version* lru = nullptr;
    for (auto& [id, versions] : clients_)
      for (auto& [r, v] : versions)
        if (!v.state.empty() && (!lru || v.last_use < lru->last_use)) {
          lru = &v;
          lru_client = id;
          lru_round = r;
        }
    if (!lru) break;
    if (!lru->on_disk) {
      RETURN_IF_ERROR(write_file(lru_client, lru_round, lru->state));
      lru->on_disk = true;
    }
    bytes_in_memory_ -= lru->bytes;
    lru->bytes = 0;
    lru->state = ModelState();
  }
  return Status();
}

}  // namespace flotilla
