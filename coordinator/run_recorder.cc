#include "coordinator/run_recorder.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/json_number.h"
#include "partitioners/partition_report.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream os;
  os << std::setprecision(8) << v;
  return os.str();
}

constexpr const char* kClientsHeader =
    "round,client_id,status,bytes_sent,bytes_received,num_samples,train_loss,train_seconds,total_seconds,"
    "divergence_to_previous,divergence_to_new,cosine_to_update,local_acc_before,local_acc_after\n";

// What resume() keeps of one metrics file.
struct KeptRows {
  std::string header;  // with its newline; empty when the file has none
  std::string rows;    // the kept rows, each with its newline
};

// The round of one row: a JSON object's "round", or a CSV row's first field.
bool round_of(const std::string& line, bool is_json, int64_t* round) {
  if (is_json) {
    const json row = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object() || !row.contains("round") || !row["round"].is_number_integer()) return false;
    *round = row["round"].get<int64_t>();
    return true;
  }
  const std::string field = line.substr(0, line.find(','));
  if (field.empty() || field.size() > 18 || field.find_first_not_of("0123456789") != std::string::npos) return false;
  *round = std::stoll(field);
  return true;
}

// Splits `path` into complete lines (a last line without its newline was torn by a kill
// mid-write: dropped) and keeps the header (for CSV files: the first line, when it starts with
// "round,") and the rows of rounds <= last_round.
StatusOr<KeptRows> keep_rounds_up_to(const std::string& path, int last_round, bool is_json) {
  ASSIGN_OR_RETURN(std::string text, read_whole_file(path));
  KeptRows kept;
  size_t start = 0;
  int line_number = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    ++line_number;
    const std::string line = text.substr(start, end - start);
    if (line.empty()) continue;
    if (!is_json && line_number == 1) {
      if (line.rfind("round,", 0) != 0) return data_loss_error(path + ": line 1 is not the header (round,...)");
      kept.header = line + "\n";
      continue;
    }
    int64_t round = 0;
    if (!round_of(line, is_json, &round))
      return data_loss_error(path + ": line " + std::to_string(line_number) + " has no round number");
    if (round <= last_round) kept.rows += line + "\n";
  }
  return kept;
}

json numbers(const std::map<std::string, double>& values) {
  json object = json::object();
  for (const auto& [k, v] : values) object[k] = json_number(v);
  return object;
}

json client_json(const ClientRoundMetrics& c) {
  json extra = json::object();
  for (const auto& [k, v] : c.extra) extra[k] = json_number(v);
  return {{"client_id", c.client_id},
          {"status", c.status},
          {"bytes_sent", c.bytes_sent},
          {"bytes_received", c.bytes_received},
          {"num_samples", c.num_samples},
          {"train_loss", json_number(c.train_loss)},
          {"train_seconds", json_number(c.train_seconds)},
          {"total_seconds", json_number(c.total_seconds)},
          {"local_steps", c.local_steps},
          {"divergence_to_previous", json_number(c.divergence_to_previous)},
          {"divergence_to_new", json_number(c.divergence_to_new)},
          {"cosine_to_update", json_number(c.cosine_to_update)},
          {"label_histogram", c.label_histogram},
          {"metrics", extra},
          {"policy", numbers(c.policy)}};
}

}  // namespace

StatusOr<std::unique_ptr<RunRecorder>> RunRecorder::create(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "checkpoints", ec);
  if (ec) return unavailable_error("cannot create run directory " + dir + ": " + ec.message());
  std::unique_ptr<RunRecorder> r(new RunRecorder(dir));
  r->jsonl_.open(dir + "/metrics.jsonl", std::ios::trunc);
  r->rounds_csv_.open(dir + "/rounds.csv", std::ios::trunc);
  r->clients_csv_.open(dir + "/clients.csv", std::ios::trunc);
  if (!r->jsonl_ || !r->rounds_csv_ || !r->clients_csv_) return unavailable_error("cannot write metrics in " + dir);
  r->clients_csv_ << kClientsHeader;
  return r;
}

StatusOr<std::unique_ptr<RunRecorder>> RunRecorder::resume(const std::string& dir, int last_round) {
  if (last_round < 0) return invalid_argument_error("cannot resume after round " + std::to_string(last_round));
  const std::string jsonl = dir + "/metrics.jsonl", rounds = dir + "/rounds.csv", clients = dir + "/clients.csv";
  for (const std::string& path : {jsonl, rounds, clients}) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      return not_found_error("cannot resume the run in " + dir + ": " + path + " is missing");
  }
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "checkpoints", ec);
  if (ec) return unavailable_error("cannot create " + dir + "/checkpoints: " + ec.message());

  // Read all three before rewriting any, so a file we cannot read leaves the run as it was.
  ASSIGN_OR_RETURN(KeptRows kept_jsonl, keep_rounds_up_to(jsonl, last_round, true));
  ASSIGN_OR_RETURN(KeptRows kept_rounds, keep_rounds_up_to(rounds, last_round, false));
  ASSIGN_OR_RETURN(KeptRows kept_clients, keep_rounds_up_to(clients, last_round, false));
  if (kept_clients.header.empty()) kept_clients.header = kClientsHeader;  // create() writes it first
  RETURN_IF_ERROR(write_file_atomically(jsonl, kept_jsonl.rows));
  RETURN_IF_ERROR(write_file_atomically(rounds, kept_rounds.header + kept_rounds.rows));
  RETURN_IF_ERROR(write_file_atomically(clients, kept_clients.header + kept_clients.rows));

  std::unique_ptr<RunRecorder> r(new RunRecorder(dir));
  if (!kept_rounds.header.empty()) {
    r->rounds_header_written_ = true;
    // The header names the classes (class_<c>_accuracy), so the rows go on with as many columns.
    for (size_t at = 0; (at = kept_rounds.header.find(",class_", at)) != std::string::npos; ++at) ++r->num_classes_;
  }
  r->jsonl_.open(jsonl, std::ios::app);
  r->rounds_csv_.open(rounds, std::ios::app);
  r->clients_csv_.open(clients, std::ios::app);
  if (!r->jsonl_ || !r->rounds_csv_ || !r->clients_csv_) return unavailable_error("cannot write metrics in " + dir);
  return r;
}

Status RunRecorder::write_config(const std::string& config_json) {
  return write_file_atomically(dir_ + "/config.json", config_json);
}

Status RunRecorder::write_partition(const std::vector<std::vector<int64_t>>& counts) {
  const PartitionStats stats = compute_partition_stats(counts);
  RETURN_IF_ERROR(write_file_atomically(dir_ + "/partition.csv", partition_csv(stats)));
  return write_file_atomically(dir_ + "/partition.json", partition_json(stats));
}

namespace {

// A round's federated evaluation: the weighted means, then one row per client asked.
json federated_json(const FederatedEvalMetrics& f) {
  json clients = json::array();
  for (const auto& c : f.clients) {
    json row = {{"client_id", c.client_id},
                {"status", c.status},
                {"num_samples", c.num_samples},
                {"loss", json_number(c.loss)},
                {"accuracy", json_number(c.accuracy)},
                {"bytes_received", c.bytes_received}};
    if (!c.class_total.empty()) {
      row["class_total"] = c.class_total;
      row["class_correct"] = c.class_correct;
    }
    clients.push_back(std::move(row));
  }
  return {{"accuracy", json_number(f.accuracy)}, {"loss", json_number(f.loss)},
          {"num_samples", f.num_samples},        {"answered", f.answered},
          {"bytes_sent", f.bytes_sent},          {"seconds", f.seconds},
          {"clients", std::move(clients)}};
}

}  // namespace

Status RunRecorder::record_round(const RoundMetrics& m) {
  json clients = json::array();
  for (const auto& c : m.clients) clients.push_back(client_json(c));
  json class_acc = json::array();
  for (double a : m.class_accuracy) class_acc.push_back(json_number(a));
  json row = {{"round", m.round},
              {"status", m.status},
              {"sampled", m.sampled},
              {"answered", m.answered},
              {"lost", m.lost},
              {"bytes_sent", m.bytes_sent},
              {"bytes_received", m.bytes_received},
              {"wire_bytes_sent", m.wire_bytes_sent},
              {"upload_peak_bytes", m.upload_peak_bytes},
              {"uploads_waiting_peak", m.uploads_waiting_peak},
              {"mean_train_loss", json_number(m.mean_train_loss)},
              {"mean_divergence", json_number(m.mean_divergence)},
              {"max_divergence", json_number(m.max_divergence)},
              {"test_accuracy", json_number(m.test_accuracy)},
              {"test_loss", json_number(m.test_loss)},
              {"class_accuracy", class_acc},
              {"aggregation", m.aggregation},
              {"inexact_elements", m.inexact_elements},
              {"wait_seconds", m.wait_seconds},
              {"fold_seconds", m.fold_seconds},
              {"aggregate_seconds", m.aggregate_seconds},
              {"eval_seconds", m.eval_seconds},
              {"round_seconds", m.round_seconds},
              {"model_sha256", m.model_sha256},
              {"finished_unix", m.finished_unix},
              {"policy", numbers(m.policy)},
              {"clients", clients}};
  if (m.federated) row["federated"] = federated_json(*m.federated);
  jsonl_ << row.dump() << "\n";
  jsonl_.flush();

  if (!rounds_header_written_) {
    rounds_header_written_ = true;
    num_classes_ = m.class_accuracy.size();
    rounds_csv_ << "round,status,sampled,answered,bytes_sent,bytes_received,mean_train_loss,mean_divergence,"
                   "max_divergence,test_accuracy,test_loss,wait_seconds,aggregate_seconds,eval_seconds,round_seconds,"
                   "model_sha256,fed_accuracy,fed_loss,fed_samples,fed_clients";
    for (size_t c = 0; c < num_classes_; ++c) rounds_csv_ << ",class_" << c << "_accuracy";
    rounds_csv_ << "\n";
  }
  rounds_csv_ << m.round << "," << (m.status == "ok" ? "ok" : "failed") << "," << m.sampled.size() << "," << m.answered
              << "," << m.bytes_sent << "," << m.bytes_received << "," << csv_number(m.mean_train_loss) << ","
              << csv_number(m.mean_divergence) << "," << csv_number(m.max_divergence) << ","
              << csv_number(m.test_accuracy) << "," << csv_number(m.test_loss) << "," << csv_number(m.wait_seconds)
              << "," << csv_number(m.aggregate_seconds) << "," << csv_number(m.eval_seconds) << ","
              << csv_number(m.round_seconds) << "," << m.model_sha256;
  if (m.federated)
    rounds_csv_ << "," << csv_number(m.federated->accuracy) << "," << csv_number(m.federated->loss) << ","
                << m.federated->num_samples << "," << m.federated->answered;
  else
    rounds_csv_ << ",,,,";
  for (size_t c = 0; c < num_classes_; ++c)
    rounds_csv_ << "," << (c < m.class_accuracy.size() ? csv_number(m.class_accuracy[c]) : "");
  rounds_csv_ << "\n";
  rounds_csv_.flush();

  for (const auto& c : m.clients) {
    auto extra = [&](const char* key) {
      auto it = c.extra.find(key);
      return it == c.extra.end() ? std::string() : csv_number(it->second);
    };
    const std::string status = c.status.substr(0, c.status.find(':'));  // ok | timeout | lost | error
    clients_csv_ << m.round << "," << c.client_id << "," << status << "," << c.bytes_sent << "," << c.bytes_received
                 << "," << c.num_samples << "," << csv_number(c.train_loss) << "," << csv_number(c.train_seconds) << ","
                 << csv_number(c.total_seconds) << "," << csv_number(c.divergence_to_previous) << ","
                 << csv_number(c.divergence_to_new) << "," << csv_number(c.cosine_to_update) << ","
                 << extra("local_acc_before") << "," << extra("local_acc_after") << "\n";
  }
  clients_csv_.flush();
  if (!jsonl_ || !rounds_csv_ || !clients_csv_) return unavailable_error("cannot write metrics in " + dir_);
  return Status();
}

Status save_state_dict(const ModelState& state, const std::string& path) {
  try {
    c10::Dict<std::string, at::Tensor> dict;
    for (const auto& e : state.entries()) dict.insert(e.name, e.tensor.detach().cpu());
    // What torch::jit::pickle_save() writes, byte for byte, but streamed to the file: pickle_save
    // returns the whole zip archive as one vector, which held a model's worth (and while growing,
    // up to two) in memory. The pickle itself is small: it names the tensors, whose bytes the
    // archive writer copies from the tensors as it goes.
    std::vector<char> pickle;
    torch::jit::Pickler pickler([&](const char* data, size_t size) { pickle.insert(pickle.end(), data, data + size); });
    pickler.protocol();
    pickler.pushIValue(c10::IValue(dict));
    pickler.stop();
    return write_file_atomically(path, [&](const ByteWriter& write) -> Status {
      // After a failed write the rest is dropped but reported as written: the archive writer
      // would throw, and its destructor (which finishes the archive) would throw again, which
      // LibTorch 1.13 turns into std::terminate. The failure is returned once it is done.
      Status failed;
      caffe2::serialize::PyTorchStreamWriter archive([&](const void* data, size_t size) -> size_t {
        if (failed.ok()) failed = write(data, size);
        return size;
      });
      torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(), archive);
      archive.writeEndOfFile();
      return failed;
    });
  } catch (const std::exception& e) {
    return internal_error("saving " + path + ": " + e.what());
  }
}

Status RunRecorder::save_checkpoint(const ModelState& state, int round) {
  char name[64];
  std::snprintf(name, sizeof name, "/checkpoints/round_%04d.pt", round);
  return save_state_dict(state, dir_ + name);
}

Status RunRecorder::save_final(const ModelState& state) { return save_state_dict(state, dir_ + "/model_final.pt"); }

}  // namespace flotilla
