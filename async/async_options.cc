#include "async/async_options.h"

#include <cmath>

#include "async/fed_async.h"
#include "async/fed_buff.h"
#include "async/spec.h"
#include "async/virtual_clock.h"

namespace flotilla {
namespace {

Status out_of_range(const std::string& key, const std::string& bound, double value) {
  return invalid_argument_error("async option " + key + " must be " + bound + " (got " + canonical_number(value) + ")");
}

}  // namespace

StatusOr<AsyncConfig> AsyncConfig::create(const AsyncOptions& o) {
  if (o.concurrency < 1) return out_of_range("concurrency", ">= 1", o.concurrency);
  if (o.buffer_size < 1) return out_of_range("buffer_size", ">= 1", o.buffer_size);
  if (!(o.alpha > 0 && o.alpha <= 1)) return out_of_range("alpha", "in (0, 1]", o.alpha);
  if (!(std::isfinite(o.server_lr) && o.server_lr > 0)) return out_of_range("server_lr", "finite and > 0", o.server_lr);
  if (!(std::isfinite(o.dc_lambda) && o.dc_lambda >= 0))
    return out_of_range("dc_lambda", "finite and >= 0", o.dc_lambda);
  if (!(std::isfinite(o.dc_client_lr) && o.dc_client_lr > 0))
    return out_of_range("dc_client_lr", "finite and > 0", o.dc_client_lr);
  if (!(std::isfinite(o.step_cost) && o.step_cost >= 0))
    return out_of_range("step_cost", "finite and >= 0", o.step_cost);
  AsyncConfig c;
  c.options = o;
  auto staleness = Staleness::parse(o.staleness);
  if (!staleness.ok()) return staleness.status().with_context("async option staleness");
  c.staleness = *staleness;
  auto delay = DelayModel::parse(o.delay);
  if (!delay.ok()) return delay.status().with_context("async option delay");
  c.delay = *delay;
  c.options.staleness = c.staleness.to_string();
  c.options.delay = c.delay.to_string();
  return c;
}

std::map<std::string, std::string> AsyncConfig::to_map() const {
  const AsyncOptions& o = options;
  return {{"mode", o.mode == AsyncMode::kFedAsync ? "fedasync" : "fedbuff"},
          {"concurrency", std::to_string(o.concurrency)},
          {"buffer_size", std::to_string(o.buffer_size)},
          {"alpha", canonical_number(o.alpha)},
          {"server_lr", canonical_number(o.server_lr)},
          {"sample_weighted", o.sample_weighted ? "true" : "false"},
          {"staleness", staleness.to_string()},
          {"dc_lambda", canonical_number(o.dc_lambda)},
          {"dc_client_lr", canonical_number(o.dc_client_lr)},
          {"delay", delay.to_string()},
          {"clock", o.clock == ClockMode::kVirtual ? "virtual" : "real"},
          {"step_cost", canonical_number(o.step_cost)}};
}

std::vector<OptionSpec> async_option_specs() {
  const AsyncOptions d;
  return {{"mode", "fedbuff", "fedbuff (buffered deltas, K per step) or fedasync (mix each update in)"},
          {"concurrency", std::to_string(d.concurrency), "C, tasks kept in flight; >= 1"},
          {"buffer_size", std::to_string(d.buffer_size), "K, FedBuff's updates per server step; >= 1"},
          {"alpha", canonical_number(d.alpha), "FedAsync mixing weight in (0, 1]"},
          {"server_lr", canonical_number(d.server_lr), "FedBuff server learning rate eta_g; > 0"},
          {"sample_weighted", "true", "FedBuff: weight deltas by sample count (false: equally)"},
          {"staleness", d.staleness, "s(tau): constant | polynomial:a=0.5 | hinge:a=10,b=4"},
          {"dc_lambda", canonical_number(d.dc_lambda), "DC-ASGD delay compensation lambda; 0 = off"},
          {"dc_client_lr", canonical_number(d.dc_client_lr),
           "the clients' learning rate, lambda's scale (a run's default: its --lr)"},
          {"delay", d.delay,
           "client delays: constant:value=V | gaussian:mean=M,std=S [,per=update|batch]"
           " [;slow=IDS:factor=F]"},
          {"clock", "virtual", "virtual (deterministic by seed) or real (arrival order)"},
          {"step_cost", canonical_number(d.step_cost), "virtual seconds per local batch; >= 0"}};
}

StatusOr<AsyncConfig> async_config_from_options(Options options) {
  RETURN_IF_ERROR(options.apply_specs("async", async_option_specs()));
  AsyncOptions o;
  ASSIGN_OR_RETURN(const std::string mode, options.get_string("mode"));
  if (mode == "fedasync") {
    o.mode = AsyncMode::kFedAsync;
  } else if (mode == "fedbuff") {
    o.mode = AsyncMode::kFedBuff;
  } else {
    return invalid_argument_error("async option mode must be fedasync or fedbuff (got '" + mode + "')");
  }
  ASSIGN_OR_RETURN(const std::string clock, options.get_string("clock"));
  if (clock == "virtual") {
    o.clock = ClockMode::kVirtual;
  } else if (clock == "real") {
    o.clock = ClockMode::kReal;
  } else {
    return invalid_argument_error("async option clock must be virtual or real (got '" + clock + "')");
  }
  ASSIGN_OR_RETURN(const int64_t concurrency, options.get_int("concurrency"));
  ASSIGN_OR_RETURN(const int64_t buffer_size, options.get_int("buffer_size"));
  if (concurrency > 1000000 || buffer_size > 1000000)
    return invalid_argument_error("async options concurrency and buffer_size must be <= 1000000");
  o.concurrency = static_cast<int>(concurrency);
  o.buffer_size = static_cast<int>(buffer_size);
  ASSIGN_OR_RETURN(o.alpha, options.get_double("alpha"));
  ASSIGN_OR_RETURN(o.server_lr, options.get_double("server_lr"));
  ASSIGN_OR_RETURN(o.sample_weighted, options.get_bool("sample_weighted"));
  ASSIGN_OR_RETURN(o.staleness, options.get_string("staleness"));
  ASSIGN_OR_RETURN(o.dc_lambda, options.get_double("dc_lambda"));
  ASSIGN_OR_RETURN(o.dc_client_lr, options.get_double("dc_client_lr"));
  ASSIGN_OR_RETURN(o.delay, options.get_string("delay"));
  ASSIGN_OR_RETURN(o.step_cost, options.get_double("step_cost"));
  return AsyncConfig::create(o);
}

std::unique_ptr<AsyncServer> make_async_server(const AsyncConfig& config, ModelState initial) {
  const AsyncOptions& o = config.options;
  std::unique_ptr<AsyncRule> rule;
  if (o.mode == AsyncMode::kFedAsync) {
    rule = std::make_unique<FedAsync>(o.alpha);
  } else {
    rule = std::make_unique<FedBuff>(FedBuffOptions{o.buffer_size, o.server_lr, o.sample_weighted});
  }
  AsyncServerOptions server{config.staleness, DelayCompensation{o.dc_lambda, o.dc_client_lr}};
  return std::make_unique<AsyncServer>(std::move(rule), std::move(initial), server);
}

std::unique_ptr<CompletionOrder> make_completion_order(const AsyncConfig& config, uint64_t seed) {
  if (config.options.clock == ClockMode::kReal) return std::make_unique<ArrivalOrder>();
  auto clock = VirtualClock::create(VirtualClockOptions{config.options.step_cost, config.delay, seed});
  FLOTILLA_CHECK(clock.ok()) << clock.status();  // step_cost was validated by AsyncConfig::create
  return std::make_unique<VirtualClock>(std::move(clock).value());
}

}  // namespace flotilla
