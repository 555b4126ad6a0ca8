// AsyncOptions: every setting of an asynchronous run, with its default, validated once by
// AsyncConfig::create(); the factories below build the server and the completion order from it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "async/async_server.h"
#include "async/completion_order.h"
#include "async/delay_model.h"
#include "async/staleness.h"
#include "core/options.h"

namespace flotilla {

enum class AsyncMode { kFedAsync, kFedBuff };
enum class ClockMode { kVirtual, kReal };

struct AsyncOptions {
  // fedbuff: buffered deltas, K per step (Nguyen et al. 2022); fedasync: mix each update in (Xie et
  // al. 2019). FedBuff by default: a buffer whose updates all started from the current version is
  // averaged exactly as FedAvg averages (async/fed_buff.h), so it is the safer generalisation.
  AsyncMode mode = AsyncMode::kFedBuff;
  // C, tasks kept in flight; >= 1.
  int concurrency = 10;
  // K, FedBuff's updates per server step; >= 1. It may exceed C: a client that finishes gets a new
  // task and may contribute twice to one buffer, as in the paper's runs; nothing waits forever.
  int buffer_size = 10;
  // FedAsync's mixing weight alpha, in (0, 1]; 0.6 as in the paper's experiments.
  double alpha = 0.6;
  // FedBuff's server learning rate eta_g; > 0, finite. 1 = the mean delta as it is.
  double server_lr = 1.0;
  // FedBuff: weight each delta by the client's sample count (true) or equally (false, the paper).
  bool sample_weighted = true;
  // s(tau), async/staleness.h. "constant" = no down-weighting; the FedAsync paper favours
  // "polynomial:a=0.5".
  std::string staleness = "constant";
  // DC-ASGD's lambda (async/delay_compensation.h), >= 0 and finite; 0 = off.
  double dc_lambda = 0.0;
  // The clients' learning rate eta, which sets lambda's scale; > 0, finite. Only read when
  // dc_lambda > 0. The coordinator passes its --lr unless the options name one.
  double dc_client_lr = 1.0;
  // Client speeds for studies, async/delay_model.h; no delay by default.
  std::string delay = "constant:value=0,per=update";
  // virtual: apply in simulated-finish order, deterministic by seed; real: in arrival order
  // (async/completion_order.h says what each guarantees).
  ClockMode clock = ClockMode::kVirtual;
  // Virtual seconds per local batch; >= 0, finite.
  double step_cost = 1.0;
};

// Options checked and their specs parsed.
struct AsyncConfig {
  AsyncOptions options;
  Staleness staleness;
  DelayModel delay;

  // InvalidArgument naming the option and its bound for anything out of range.
  static StatusOr<AsyncConfig> create(const AsyncOptions& options);
  // Every option as key -> canonical text (specs in their to_string() form), for config.json.
  // async_config_from_options() of it gives the same config.
  std::map<std::string, std::string> to_map() const;
};

// The keys and defaults of AsyncOptions, for --async-opt key=value and config files.
std::vector<OptionSpec> async_option_specs();
// Reads key=value options (unknown keys and bad values are InvalidArgument naming them), then
// AsyncConfig::create().
StatusOr<AsyncConfig> async_config_from_options(Options options);

// The server for the configured rule, starting from `initial` as version 0.
std::unique_ptr<AsyncServer> make_async_server(const AsyncConfig& config, ModelState initial);
// A VirtualClock drawing delays from `seed`, or ArrivalOrder for clock = real.
std::unique_ptr<CompletionOrder> make_completion_order(const AsyncConfig& config, uint64_t seed);

}  // namespace flotilla
