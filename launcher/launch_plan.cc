#include "launcher/launch_plan.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>
#include <utility>

#include "core/log.h"

namespace flotilla {
namespace {

constexpr int kDefaultMaxProcesses = 4;
constexpr const char* kCoordinatorBinary = "flotilla-coordinator";
constexpr const char* kClientBinary = "flotilla-client";

StatusOr<std::string> find_binary(const std::string& dir, const char* name) {
  const std::string path = (std::filesystem::path(dir) / name).string();
  if (::access(path.c_str(), X_OK) != 0) {
    return not_found_error(path + " is missing or not executable (use --bin-dir to point at the folder holding " +
                           kCoordinatorBinary + " and " + kClientBinary + ")");
  }
  return path;
}

Status check_port(const std::string& port) {
  if (port == "*") return Status();
  int value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
    return invalid_argument_error("--port must be * or a number from 1 to 65535, got '" + port + "'");
  }
  return Status();
}

// The launcher wires coordinator and clients together itself; a second value would either
// clash (CLI11 rejects repeated options) or silently disconnect them.
Status check_no_reserved(const std::vector<std::string>& args) {
  static constexpr std::array<const char*, 12> kReserved = {
      "--bind",      "--endpoint-file",   "--connect", "--client-id", "--client-ids", "--curve-secret-key",
      "--allowlist", "--coordinator-key", "--key",     "--insecure",  "--resume",     "--live-view-url-file"};
  for (const auto& arg : args) {
    for (const char* name : kReserved) {
      const std::string flag = name;
      if (arg == flag || arg.rfind(flag + "=", 0) == 0) {
        return invalid_argument_error(flag +
                                      " is set by flotilla-run itself (--port picks the port; local runs get "
                                      "throwaway keys; for keys of your own start the processes by hand, see "
                                      "docs/security.md)");
      }
    }
  }
  return Status();
}

Status check_seconds(const char* flag, double value) {
  if (!(value > 0))
    return invalid_argument_error(std::string(flag) + " must be positive, got " + std::to_string(value));
  return Status();
}

// The last value of `flag` among the coordinator's pass-through arguments, or `absent`.
std::string flag_value(const std::vector<std::string>& args, const std::string& flag, const std::string& absent) {
  std::string value = absent;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag && i + 1 < args.size()) value = args[i + 1];
    if (args[i].rfind(flag + "=", 0) == 0) value = args[i].substr(flag.size() + 1);
  }
  return value;
}

std::string topology_of(const std::vector<std::string>& args) { return flag_value(args, "--topology", "star"); }

// A resumed run's config.json, which fixes what its clients need (the number of clients, the
// dataset and its folder, the model file): read once.
StatusOr<nlohmann::json> config_of_run(const std::string& run_dir) {
  std::ifstream in(run_dir + "/config.json");
  if (!in) return not_found_error("--resume " + run_dir + ": no config.json there");
  nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object())
    return invalid_argument_error("--resume " + run_dir + ": its config.json is not a JSON object");
  return config;
}

// The number of logical clients of a run, from its config.json.
StatusOr<int> clients_of_run(const nlohmann::json& config, const std::string& run_dir) {
  if (!config.contains("clients") || !config["clients"].is_number_integer())
    return invalid_argument_error("--resume " + run_dir + ": its config.json has no number of clients");
  return config["clients"].get<int>();
}

// A string of a run's config.json, or "" (its dataset, data folder and model file).
std::string config_string(const nlohmann::json& config, const char* key) {
  return config.contains(key) && config[key].is_string() ? config[key].get<std::string>() : "";
}

}  // namespace

StatusOr<LaunchPlan> LaunchPlan::create(LaunchOptions options, int cpus) {
  nlohmann::json resumed;  // the resumed run's config.json
  if (!options.resume_dir.empty()) {
    if (!options.out_dir.empty())
      return invalid_argument_error("--out cannot be given with --resume: the run directory is the resumed one");
    ASSIGN_OR_RETURN(resumed, config_of_run(options.resume_dir));
    if (options.clients == 0) {
      ASSIGN_OR_RETURN(options.clients, clients_of_run(resumed, options.resume_dir));
    }
  }
  if (options.clients < 1) {
    return invalid_argument_error("--clients N (at least 1) is required, got " + std::to_string(options.clients));
  }
  // Decentralised rounds need one client per process, each listening for its peers.
  const std::string topology = topology_of(options.coordinator_args);
  const bool decentralised = topology != "star";
  if (decentralised && options.processes != 0 && options.processes != options.clients)
    return invalid_argument_error("--topology " + topology +
                                  " needs one client per process: --processes must equal --clients (" +
                                  std::to_string(options.clients) + "), got " + std::to_string(options.processes));
  if (options.processes == 0)
    options.processes = decentralised ? options.clients : std::min(options.clients, kDefaultMaxProcesses);
  if (options.min_clients < 0 || options.min_clients > options.clients) {
    return invalid_argument_error("--min-clients must be between 0 and --clients, got " +
                                  std::to_string(options.min_clients));
  }
  if (options.min_clients == 0) options.min_clients = options.clients;
  if (options.threads < 0) {
    return invalid_argument_error("--threads must be positive, got " + std::to_string(options.threads));
  }
  RETURN_IF_ERROR(check_port(options.port));
  RETURN_IF_ERROR(check_seconds("--startup-timeout", options.startup_timeout_s));
  RETURN_IF_ERROR(check_seconds("--client-grace", options.client_grace_s));
  RETURN_IF_ERROR(check_seconds("--stop-timeout", options.stop_timeout_s));
  RETURN_IF_ERROR(check_no_reserved(options.coordinator_args));
  if (!options.log_level.empty()) {
    LogLevel level;
    if (!parse_log_level(options.log_level, &level)) {
      return invalid_argument_error("--log-level must be debug, info, warning or error, got '" + options.log_level +
                                    "'");
    }
  }
  if (options.bin_dir.empty()) return invalid_argument_error("no folder to look for the binaries in");

  LaunchPlan plan;
  plan.decentralised_ = decentralised;
  ASSIGN_OR_RETURN(plan.ranges_, split_client_ranges(options.clients, options.processes));
  ASSIGN_OR_RETURN(plan.coordinator_path_, find_binary(options.bin_dir, kCoordinatorBinary));
  ASSIGN_OR_RETURN(plan.client_path_, find_binary(options.bin_dir, kClientBinary));
  cpus = std::max(1, cpus);
  if (options.threads > 0) {
    plan.coordinator_threads_ = plan.client_threads_ = options.threads;
  } else {
    // The coordinator works while the clients train: it folds each update as it lands and
    // evaluates the last round's model beside the next round (and in asynchronous training it
    // never waits). So it gets the CPUs the clients leave, at least one. Given all of them, its
    // thread pool contends with the clients' training: on 2 CPUs with 2 client processes,
    // rounds of the CIFAR-10 subset took 350 ms instead of 305.
    plan.client_threads_ = std::max(1, cpus / options.processes);
    plan.coordinator_threads_ = std::max(1, cpus - options.processes * plan.client_threads_);
  }
  // Clients' own data and models (docs/bring_your_own.md): the clients of a run of dataset local
  // read their own files, and a TorchScript model's clients get the archive's path, so that the
  // coordinator ships nothing and no client runs code it was sent.
  if (options.resume_dir.empty()) {
    plan.local_data_ = flag_value(options.coordinator_args, "--dataset", "") == "local";
    const std::string model = flag_value(options.coordinator_args, "--model", "");
    if (model.rfind("torchscript:", 0) == 0) plan.client_model_ = model;
  } else {
    plan.local_data_ = config_string(resumed, "dataset") == "local";
    const std::string file = config_string(resumed, "model_file");
    if (!file.empty()) plan.client_model_ = "torchscript:" + file;
    // The run's own data folder, unless told otherwise: clients started without it would look in
    // the dataset's default place and fail there.
    if (options.data_dir.empty()) options.data_dir = config_string(resumed, "data_dir");
  }
  plan.options_ = std::move(options);
  return plan;
}

std::string LaunchPlan::bind_endpoint() const { return "tcp://127.0.0.1:" + options_.port; }

void LaunchPlan::append_shared(std::vector<std::string>* argv) const {
  const std::pair<const char*, const std::string*> shared[] = {{"--config", &options_.config},
                                                               {"--data-dir", &options_.data_dir},
                                                               {"--device", &options_.device},
                                                               {"--log-level", &options_.log_level}};
  for (const auto& [flag, value] : shared) {
    if (value->empty()) continue;
    argv->push_back(flag);
    argv->push_back(*value);
  }
  for (const auto& plugin : options_.plugins) argv->insert(argv->end(), {"--plugin", plugin});
}

std::string LaunchPlan::live_view_token_file() const {
  return flag_value(options_.coordinator_args, "--live-view-token-file", "");
}

std::vector<std::string> LaunchPlan::coordinator_argv(const std::string& endpoint_file,
                                                      const std::string& live_view_url_file) const {
  std::vector<std::string> argv = {coordinator_path_, "--bind", bind_endpoint(), "--endpoint-file", endpoint_file};
  if (live_view()) {
    argv.insert(argv.end(), {"--live-view", options_.live_view.empty() ? "127.0.0.1:0" : options_.live_view});
    if (!live_view_url_file.empty()) argv.insert(argv.end(), {"--live-view-url-file", live_view_url_file});
  }
  // A resumed run takes its number of clients (and everything else that shapes it) from its own
  // config.json; the coordinator refuses those flags beside --resume.
  if (options_.resume_dir.empty()) {
    argv.insert(argv.end(), {"--clients", std::to_string(options_.clients)});
  } else {
    argv.insert(argv.end(), {"--resume", options_.resume_dir});
  }
  argv.insert(argv.end(), {"--min-clients", std::to_string(options_.min_clients), "--threads",
                           std::to_string(coordinator_threads_)});
  append_shared(&argv);
  if (!options_.out_dir.empty()) {
    argv.push_back("--out");
    argv.push_back(options_.out_dir);
  }
  argv.insert(argv.end(), options_.coordinator_args.begin(), options_.coordinator_args.end());
  return argv;
}

std::vector<std::string> LaunchPlan::client_argv(std::size_t index, const std::string& endpoint,
                                                 const std::string& peer_dir) const {
  std::vector<std::string> argv = {client_path_,
                                   "--connect",
                                   endpoint,
                                   "--client-ids",
                                   ranges_.at(index).to_string(),
                                   "--threads",
                                   std::to_string(client_threads_)};
  append_shared(&argv);
  if (!options_.client_state_dir.empty()) argv.insert(argv.end(), {"--client-state-dir", options_.client_state_dir});
  if (!options_.client_state_memory.empty())
    argv.insert(argv.end(), {"--client-state-memory", options_.client_state_memory});
  if (decentralised_) argv.insert(argv.end(), {"--peer-bind", "ipc://" + peer_dir + "/peer-" + std::to_string(index)});
  if (local_data_) argv.push_back("--local-data");
  if (!client_model_.empty()) argv.insert(argv.end(), {"--model", client_model_});
  argv.insert(argv.end(), options_.client_args.begin(), options_.client_args.end());
  return argv;
}

std::string LaunchPlan::client_name(std::size_t index) const {
  const ClientRange& range = ranges_.at(index);
  return (range.size() == 1 ? "client " : "clients ") + range.to_string();
}

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

StatusOr<std::string> executable_dir() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return not_found_error("cannot read /proc/self/exe (" + ec.message() + "); give --bin-dir");
  return self.parent_path().string();
}

}  // namespace flotilla
