#include "cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

namespace flotilla::testing {

using namespace std::chrono_literals;

namespace {}

std::vector<std::string> small_experiment_flags(int epochs) {
  return {"--dataset",    "synthetic", "--model", "mlp",  "--partitioner", "iid", "--epochs", std::to_string(epochs),
          "--batch-size", "16",        "--lr",    "0.05", "--momentum",    "0.9", "--seed",   "7",
          "--threads",    "1"};
}

LocalCluster::LocalCluster(const std::string& name) : tmp_(make_temp_dir("flotilla-" + name)) {}

bool LocalCluster::start_coordinator(const std::vector<std::string>& args, std::string bind) {
  const std::string endpoint_file = tmp_ + "/endpoint";
  std::remove(endpoint_file.c_str());
  if (bind.empty()) bind = endpoint_.empty() ? "tcp://127.0.0.1:*" : endpoint_;
  std::vector<std::string> argv = {kBinDir + "/flotilla-coordinator", "--bind", bind, "--endpoint-file", endpoint_file};
  if (std::find(args.begin(), args.end(), "--resume") == args.end()) {
    argv.push_back("--out");
    argv.push_back(run_dir());
  }
  argv.insert(argv.end(), args.begin(), args.end());
  if (coordinator_) retired_.push_back(std::move(coordinator_));
  coordinator_ = std::make_unique<ChildProcess>(argv, tmp_ + "/coordinator-" + std::to_string(++restarts_) + ".log");
  if (!coordinator_->started() || !wait_for_file(endpoint_file, 60s)) {
    ADD_FAILURE() << "coordinator never bound:\n" << coordinator_->log();
    return false;
  }
  endpoint_ = read_file(endpoint_file);
  endpoint_.erase(endpoint_.find_last_not_of('\n') + 1);
  return true;
}

ChildProcess& LocalCluster::start_client(const std::string& ids, const std::vector<std::string>& args,
                                         const std::string& name) {
  const std::string key = name.empty() ? ids : name;
  std::vector<std::string> argv = {
      kBinDir + "/flotilla-client", "--connect", endpoint_, "--client-ids", ids, "--threads", "1"};
  argv.insert(argv.end(), args.begin(), args.end());
  if (auto it = clients_.find(key); it != clients_.end()) retired_.push_back(std::move(it->second));
  auto child =
      std::make_unique<ChildProcess>(argv, tmp_ + "/client-" + key + "-" + std::to_string(++restarts_) + ".log");
  EXPECT_TRUE(child->started());
  auto& ref = *child;
  clients_[key] = std::move(child);
  return ref;
}

int LocalCluster::wait_coordinator(std::chrono::seconds timeout, std::chrono::seconds grace) {
  const int code = coordinator_ ? coordinator_->wait_for(timeout) : -1;
  for (auto& [name, c] : clients_) c->wait_for(grace);
  return code;
}

std::vector<nlohmann::json> LocalCluster::rounds() const { return read_jsonl(run_dir() + "/metrics.jsonl"); }

ClusterKeys make_keys(const LocalCluster& cluster, const std::vector<std::string>& allowed,
                      const std::vector<std::string>& unlisted) {
  ClusterKeys keys;
  keys.dir = cluster.dir() + "/keys";
  keys.allowlist = cluster.dir() + "/allowlist.txt";
  auto run_tool = [&](std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(), kBinDir + "/flotilla-keys");
    ChildProcess tool(args, cluster.dir() + "/" + log);
    const int code = tool.wait_for(std::chrono::seconds(30));
    EXPECT_EQ(code, 0) << tool.log();
    return code == 0 ? tool.log() : std::string();
  };
  std::vector<std::string> generate = {"generate", "--out", keys.dir, "coordinator"};
  generate.insert(generate.end(), allowed.begin(), allowed.end());
  generate.insert(generate.end(), unlisted.begin(), unlisted.end());
  if (run_tool(generate, "keys.log").empty()) return keys;
  std::string lines;
  for (size_t id = 0; id < allowed.size(); ++id) {
    const std::string line = run_tool({"allow", "--ids", std::to_string(id), keys.dir + "/" + allowed[id] + ".public"},
                                      "allow-" + allowed[id] + ".log");
    if (line.empty()) return keys;
    lines += line;
  }
  std::ofstream(keys.allowlist) << lines;
  keys.ok = true;
  return keys;
}

size_t LocalCluster::wait_for_rounds(size_t count, std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (rounds().size() < count && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return rounds().size();
}

bool LocalCluster::wait_for_log(const std::string& needle, std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (coordinator_log().find(needle) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

double policy_of(const nlohmann::json& row, const char* key) {
  if (!row.contains("policy") || !row["policy"].contains(key)) {
    ADD_FAILURE() << "no policy." << key << " in " << row.dump();
    return std::numeric_limits<double>::quiet_NaN();
  }
  return row["policy"][key].get<double>();
}

std::string final_model_sha(const std::vector<nlohmann::json>& rounds) {
  return rounds.empty() ? "" : rounds.back()["model_sha256"].get<std::string>();
}

void remove_checkpoints_after(const std::string& run_dir, int round) {
  for (const auto& e : std::filesystem::directory_iterator(run_dir + "/checkpoints")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("round_", 0) == 0 && std::atoi(name.c_str() + 6) > round) std::filesystem::remove(e.path());
  }
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace flotilla::testing
