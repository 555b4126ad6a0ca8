#include "launcher/command_line.h"

#include <CLI/CLI.hpp>

namespace flotilla {
namespace {

constexpr const char* kDescription =
    "flotilla-run: starts a coordinator and client processes on this machine, streams their output\n"
    "line by line with a prefix per process, and stops all of them on Ctrl-C or when any fails.\n"
    "Example: flotilla-run --clients 10 --rounds 20 --dataset mnist --data-dir data/mnist\n"
    "\n"
    "Every option not listed below (--rounds, --dataset, --model, --aggregator-opt k=v, ...) is\n"
    "passed unchanged to flotilla-coordinator: see flotilla-coordinator --help.";

constexpr const char* kFooter =
    "Logical clients 0..N-1 are split into contiguous ranges, one per client process\n"
    "(--clients 10 --processes 3: 0-3, 4-6, 7-9).\n"
    "Threads: without --threads, each client process gets max(1, CPUs / processes) LibTorch\n"
    "threads and the coordinator, which folds updates and evaluates while the clients train, the\n"
    "CPUs they leave, at least 1 (CPUs: those this process may run on). --threads T gives every\n"
    "process T.\n"
    "Exit status: 0 when the coordinator finished; the coordinator's status, or 1, when a process\n"
    "failed; 2 for bad flags or a missing binary; 130 after SIGINT, 143 after SIGTERM.";

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CommandLine result;
  LaunchOptions& o = result.options;
  CLI::App app{kDescription, "flotilla-run"};
  // Unknown options (and their values) land in remaining() in their original order and form.
  app.allow_extras();
  app.footer(kFooter);
  app.get_formatter()->column_width(34);

  const char* processes_group = "Processes";
  app.add_option("--clients", o.clients, "logical clients (= data partitions); required")->group(processes_group);
  app.add_option("--processes", o.processes,
                 "client processes (default min(clients, 4); with a decentralised --topology, one per client)")
      ->group(processes_group);
  app.add_option("--min-clients", o.min_clients, "clients the coordinator waits for (default all)")
      ->group(processes_group);
  app.add_option("--bin-dir", o.bin_dir, "folder of flotilla-coordinator and flotilla-client (default: this one's)")
      ->group(processes_group);
  app.add_option("--port", o.port, "coordinator port on 127.0.0.1 (* = any free port)")
      ->capture_default_str()
      ->group(processes_group);
  app.add_option("--threads", o.threads, "LibTorch threads for every process (default: see below)")
      ->group(processes_group);

  const char* passed_group = "Passed on";
  // Keys the launcher does not know (rounds, dataset ...) are the coordinator's business.
  app.set_config("--config", "", "TOML/INI file of long option names, read here and by every process")
      ->group(passed_group);
  app.allow_config_extras(CLI::config_extras_mode::ignore);
  app.add_option("--data-dir", o.data_dir, "dataset folder (every process)")->group(passed_group);
  app.add_option("--device", o.device, "auto | cpu | cuda | cuda:N (every process)")->group(passed_group);
  app.add_option("--log-level", o.log_level, "debug | info | warning | error (every process, and here)")
      ->group(passed_group);
  app.add_option("--plugin", o.plugins,
                 "shared library of aggregators and client halves (repeatable; coordinator and every client)")
      ->group(passed_group);
  app.add_option("--client-state-dir", o.client_state_dir,
                 "folder keeping the logical clients' algorithm state (every client; see flotilla-client --help)")
      ->group(passed_group);
  app.add_option("--client-state-memory", o.client_state_memory,
                 "MB of algorithm state each client process keeps in memory (every client; default 512)")
      ->group(passed_group);
  std::string label_column;
  bool withhold_label_counts = false;
  app.add_option("--label-column", label_column, "CSV files of --dataset local: the label column (every client)")
      ->group(passed_group);
  app.add_flag("--withhold-label-counts", withhold_label_counts,
               "--dataset local: clients keep their per-class counts to themselves (every client)")
      ->group(passed_group);
  app.add_option("--out", o.out_dir, "run directory (coordinator)")->group(passed_group);
  app.add_option("--resume", o.resume_dir,
                 "continue RUN_DIR from its last checkpoint; --clients defaults to its config.json's")
      ->group(passed_group);
  app.add_flag("--no-encryption{false}", o.encrypt,
               "no throwaway CURVE keys: plain text on loopback (by default every local run is encrypted)")
      ->group(passed_group);

  app.add_option("--live-view", o.live_view,
                 "serve the coordinator's live web page, JSON API and /metrics at [HOST:]PORT (a bare port is on "
                 "127.0.0.1; see docs/live_view.md)")
      ->group(passed_group);
  app.add_flag("--no-progress", o.no_progress,
               "no live progress line on a terminal (it is drawn only when stdout is a terminal)");

  const char* timing_group = "Timing";
  app.add_option("--startup-timeout", o.startup_timeout_s, "seconds for the coordinator to bind")
      ->capture_default_str()
      ->group(timing_group);
  app.add_option("--client-grace", o.client_grace_s, "seconds clients get to exit after the coordinator")
      ->capture_default_str()
      ->group(timing_group);
  app.add_option("--stop-timeout", o.stop_timeout_s, "seconds from SIGTERM to SIGKILL when stopping")
      ->capture_default_str()
      ->group(timing_group);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // 0 for --help; CLI11's codes for errors are folded into the one usage status.
    const int code = app.exit(e, out, err);
    result.exit_code = code == 0 ? 0 : 2;
    return result;
  }
  if (const CLI::Option* config = app.get_config_ptr(); config != nullptr && config->count() > 0) {
    o.config = config->as<std::string>();
  }
  o.coordinator_args = app.remaining();
  if (!label_column.empty()) o.client_args.insert(o.client_args.end(), {"--label-column", label_column});
  if (withhold_label_counts) o.client_args.push_back("--withhold-label-counts");
  return result;
}

}  // namespace flotilla
