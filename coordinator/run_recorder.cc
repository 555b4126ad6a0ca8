#include "coordinator/run_recorder.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "partitioners/partition_report.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// NaN and Inf are not JSON: they become null.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream os;
  os << std::setprecision(8) << v;
  return os.str();
}

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return unavailable_error("cannot write " + path);
  return Status();
}

json client_json(const ClientRoundMetrics& c) {
  json extra = json::object();
  for (const auto& [k, v] : c.extra) extra[k] = number(v);
  return {{"client_id", c.client_id},
          {"status", c.status},
          {"bytes_sent", c.bytes_sent},
          {"bytes_received", c.bytes_received},
          {"num_samples", c.num_samples},
          {"train_loss", number(c.train_loss)},
          {"train_seconds", number(c.train_seconds)},
          {"total_seconds", number(c.total_seconds)},
          {"divergence_to_previous", number(c.divergence_to_previous)},
          {"divergence_to_new", number(c.divergence_to_new)},
          {"cosine_to_update", number(c.cosine_to_update)},
          {"label_histogram", c.label_histogram},
          {"metrics", extra}};
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
  r->clients_csv_ << "round,client_id,status,bytes_sent,bytes_received,num_samples,train_loss,train_seconds,"
                     "total_seconds,divergence_to_previous,divergence_to_new,cosine_to_update,local_acc_before,"
                     "local_acc_after\n";
  return r;
}

Status RunRecorder::write_config(const std::string& config_json) {
  return write_file(dir_ + "/config.json", config_json);
}

Status RunRecorder::write_partition(const std::vector<std::vector<int64_t>>& counts) {
  const PartitionStats stats = compute_partition_stats(counts);
  RETURN_IF_ERROR(write_file(dir_ + "/partition.csv", partition_csv(stats)));
  return write_file(dir_ + "/partition.json", partition_json(stats));
}

Status RunRecorder::record_round(const RoundMetrics& m) {
  json clients = json::array();
  for (const auto& c : m.clients) clients.push_back(client_json(c));
  json class_acc = json::array();
  for (double a : m.class_accuracy) class_acc.push_back(number(a));
  json row = {{"round", m.round},
              {"status", m.status},
              {"sampled", m.sampled},
              {"answered", m.answered},
              {"lost", m.lost},
              {"bytes_sent", m.bytes_sent},
              {"bytes_received", m.bytes_received},
              {"mean_train_loss", number(m.mean_train_loss)},
              {"mean_divergence", number(m.mean_divergence)},
              {"max_divergence", number(m.max_divergence)},
              {"test_accuracy", number(m.test_accuracy)},
              {"test_loss", number(m.test_loss)},
              {"class_accuracy", class_acc},
              {"wait_seconds", m.wait_seconds},
              {"aggregate_seconds", m.aggregate_seconds},
              {"eval_seconds", m.eval_seconds},
              {"round_seconds", m.round_seconds},
              {"model_sha256", m.model_sha256},
              {"finished_unix", m.finished_unix},
              {"clients", clients}};
  jsonl_ << row.dump() << "\n";
  jsonl_.flush();

  if (num_classes_ == 0) {
    num_classes_ = m.class_accuracy.size();
    rounds_csv_ << "round,status,sampled,answered,bytes_sent,bytes_received,mean_train_loss,mean_divergence,"
                   "max_divergence,test_accuracy,test_loss,wait_seconds,aggregate_seconds,eval_seconds,round_seconds,"
                   "model_sha256";
    for (size_t c = 0; c < num_classes_; ++c) rounds_csv_ << ",class_" << c << "_accuracy";
    rounds_csv_ << "\n";
  }
  rounds_csv_ << m.round << "," << (m.status == "ok" ? "ok" : "failed") << "," << m.sampled.size() << "," << m.answered
              << "," << m.bytes_sent << "," << m.bytes_received << "," << csv_number(m.mean_train_loss) << ","
              << csv_number(m.mean_divergence) << "," << csv_number(m.max_divergence) << ","
              << csv_number(m.test_accuracy) << "," << csv_number(m.test_loss) << "," << csv_number(m.wait_seconds)
              << "," << csv_number(m.aggregate_seconds) << "," << csv_number(m.eval_seconds) << ","
              << csv_number(m.round_seconds) << "," << m.model_sha256;
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
    const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
    // Write then rename, so a reader never sees half a checkpoint.
    const std::string tmp = path + ".tmp";
    RETURN_IF_ERROR(write_file(tmp, std::string(bytes.begin(), bytes.end())));
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) return unavailable_error("cannot write " + path + ": " + ec.message());
    return Status();
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
