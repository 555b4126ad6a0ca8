#include "client/task_runner.h"

#include <ATen/ATen.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "algorithms/builtin.h"
#include "client/collective_member.h"
#include "client/secure_aggregation_member.h"
#include "compression/codec_spec.h"
#include "compression/delta.h"
#include "core/log.h"
#include "core/shape_text.h"
#include "datasets/dataset_loader.h"
#include "models/model_registry.h"
#include "partitioners/random.h"
#include "privacy/gaussian_noise.h"
#include "privacy/update_clipping.h"
#include "protocol/codec.h"
#include "training/evaluator.h"
#include "training/experiment_setup.h"
#include "training/local_trainer.h"

namespace flotilla {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kCompressionStream = 0x434f4d50ULL;  // "COMP": the codecs' random stream

// Residuals live beside the client halves' states: in a folder of their own under a user's
// --client-state-dir (the two stores name files alike), with the same memory budget.
ClientStateStoreOptions residual_store_options(ClientStateStoreOptions options) {
  if (!options.dir.empty()) options.dir += "/error_feedback";
  return options;
}

Frames error_reply(int client_id, int round, const Status& status, uint64_t task_id = 0) {
  FLOTILLA_LOG(Error) << "client " << client_id << " round " << round << ": " << status;
  return encode(msg::Error{static_cast<int>(status.code()), status.message(), client_id, round, task_id});
}

// The error that answers a round task: it names the task.
Frames task_error(const msg::RoundTask& task, int client_id, const Status& status) {
  return error_reply(client_id, task.round, status, task.task_id);
}

}  // namespace

class TaskRunner::Impl {
 public:
  explicit Impl(TaskRunnerOptions options)
      : options_(std::move(options)),
        states_(options_.state),
        residuals_(residual_store_options(options_.state)),
        collective_(options_.peer_endpoint, options_.peer_keys) {
    if (!options_.algorithms) {
      auto builtins = std::make_shared<ClientAlgorithmRegistry>("client half");
      FLOTILLA_CHECK(register_builtin_client_algorithms(*builtins).ok());
      options_.algorithms = std::move(builtins);
    }
  }

  StatusOr<std::vector<msg::DataReport>> load_local_data(const std::vector<int>& client_ids) {
    std::vector<msg::DataReport> reports;
    if (!options_.local_data) return reports;
    ASSIGN_OR_RETURN(local_, flotilla::load_local_data(client_ids, LocalDataOptions{options_.data_dir, options_.site,
                                                                                    options_.withhold_label_counts}));
    for (const auto& [id, data] : local_) {
      reports.push_back(data.report);
      FLOTILLA_LOG(Info) << "client " << id << ": " << data.report.train_samples << " training and "
                         << data.report.test_samples << " test samples of its own, " << data.report.num_classes
                         << " classes" << (options_.withhold_label_counts ? " (label counts withheld)" : "");
    }
    return reports;
  }

  Status welcome(const msg::Welcome& welcome) {
    RETURN_IF_ERROR(accept_run_model(welcome.experiment.model, welcome.model_archive, options_.model_trust));
    bool all_loaded = model_ && welcome.experiment == experiment_;
    for (int id : welcome.client_ids) all_loaded = all_loaded && clients_.count(id) > 0;
    if (all_loaded) {
      FLOTILLA_LOG(Info) << "welcomed again for the same experiment: keeping the loaded data";
      return Status();
    }
    const bool local_run = welcome.experiment.dataset == kLocalDataset;
    if (local_run && !options_.local_data)
      return failed_precondition_error(
          "the run trains on the clients' own data (dataset local): start this client with --local-data and "
          "--data-dir naming its files");
    if (!local_run && options_.local_data)
      return failed_precondition_error(
          "this client was started with --local-data, but the run partitions the public "
          "data set '" +
          welcome.experiment.dataset + "' among its clients");
    experiment_ = welcome.experiment;
    if (local_run) return welcome_local(welcome);
    FLOTILLA_LOG(Info) << "welcomed: dataset " << experiment_.dataset << ", model " << experiment_.model << ", "
                       << experiment_.num_clients << " clients, partitioner " << experiment_.partitioner;
    const std::string dir = options_.data_dir.empty() ? default_data_dir(experiment_.dataset) : options_.data_dir;
    // The full dataset lives only inside this scope: each logical client keeps its own slice.
    ASSIGN_OR_RETURN(DatasetSplits data, load_dataset(experiment_.dataset, dir));
    ASSIGN_OR_RETURN(Partition partition, partition_for(experiment_, data.train));
    clients_.clear();
    for (int id : welcome.client_ids) {
      if (id < 0 || id >= partition.num_clients())
        return invalid_argument_error("coordinator assigned client id " + std::to_string(id) + " out of range");
      ClientData slice = client_data(data, partition, id, experiment_);
      slice.train.images = slice.train.images.to(options_.device);
      slice.train.labels = slice.train.labels.to(options_.device);
      if (slice.holdout.images.defined()) {  // evaluated before and after every task: on the device too
        slice.holdout.images = slice.holdout.images.to(options_.device);
        slice.holdout.labels = slice.holdout.labels.to(options_.device);
      }
      clients_[id] = std::move(slice);
    }
    ASSIGN_OR_RETURN(model_, create_initial_model(experiment_, data));
    model_->to(options_.device);
    model_spec_ = model_spec_for(data);
    return Status();
  }

  // A run on the clients' own data: each hosted client's files, read before registering, are
  // split into training rows and a held-out slice as a partition's share would be; the model is
  // built from the input the coordinator fixed, which the data must have.
  Status welcome_local(const msg::Welcome& welcome) {
    ASSIGN_OR_RETURN(model_spec_, model_spec_for(experiment_));
    clients_.clear();
    for (int id : welcome.client_ids) {
      auto own = local_.find(id);
      if (own == local_.end())
        return invalid_argument_error("coordinator welcomed client " + std::to_string(id) +
                                      ", whose data this process did not load");
      const msg::DataReport& report = own->second.report;
      if (report.sample_shape != experiment_.sample_shape || report.num_classes > experiment_.num_classes)
        return invalid_argument_error(
            "client " + std::to_string(id) + "'s data (" + shape_text(report.sample_shape) + ", " +
            std::to_string(report.num_classes) + " classes) does not fit the run's model input (" +
            shape_text(experiment_.sample_shape) + ", " + std::to_string(experiment_.num_classes) + " classes)");
      ClientData slice = client_data(own->second.splits.train, id, experiment_);
      slice.test = own->second.splits.test;
      for (TensorDataset* d : {&slice.train, &slice.holdout, &slice.test}) {
        if (!d->images.defined()) continue;
        d->images = d->images.to(options_.device);
        d->labels = d->labels.to(options_.device);
        d->num_classes = experiment_.num_classes;
      }
      clients_[id] = std::move(slice);
    }
    ASSIGN_OR_RETURN(model_, create_initial_model(experiment_));
    model_->to(options_.device);
    FLOTILLA_LOG(Info) << "welcomed: own data of " << welcome.client_ids.size() << " client(s), model "
                       << experiment_.model;
    return Status();
  }

  // The run's agreed input normalisation, set before each task: the coordinator may have computed
  // it only after this client registered. A public data set keeps its reader's statistics unless
  // the task names others (--normalize none or given, protocol 11).
  void normalise_as_told(ClientData& data, const TrainConfig& config) const {
    if (experiment_.dataset != kLocalDataset && config.input_mean.empty()) return;
    for (TensorDataset* d : {&data.train, &data.holdout, &data.test}) {
      d->mean = config.input_mean;
      d->std = config.input_std;
    }
  }

  bool ready() const { return model_ != nullptr; }

  Frames run(const msg::RoundTask& task, int client_id, const std::atomic<bool>& cancelled) {
    auto it = clients_.find(client_id);
    if (!model_ || it == clients_.end())
      return task_error(task, client_id, invalid_argument_error("this process does not host that client"));
    if (options_.crash_at_round > 0 && task.round == options_.crash_at_round) {
      FLOTILLA_LOG(Error) << "crashing on purpose at round " << task.round << " (--crash-at-round)";
      std::_Exit(137);
    }
    if (options_.hang_at_round > 0 && task.round == options_.hang_at_round) {
      FLOTILLA_LOG(Error) << "hanging on purpose in round " << task.round << " (--hang-at-round)";
      while (!cancelled.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return task_error(task, client_id, aborted_error("cancelled while hanging"));
    }
    const auto started = Clock::now();
    const c10::Device device = options_.device;
    const bool collective = !task.collective.empty();
    normalise_as_told(it->second, task.config);
    // A decentralised round after the first sends no model: the client goes on from its own.
    Status loaded = collective && task.state.empty() ? check_collective_continues(task, client_id)
                                                     : load_model_state(*model_, task.state);
    if (!loaded.ok()) return task_error(task, client_id, loaded);

    msg::ClientUpdate update;
    update.round = task.round;
    update.client_id = client_id;
    update.task_id = task.task_id;
    const TensorDataset& holdout = it->second.holdout;
    if (holdout.size() > 0) {
      auto before = evaluate(*model_, holdout, device);
      if (before.ok()) update.metrics["local_acc_before"] = before->accuracy;
    }
    const std::string half = task.algorithm.name;
    auto made = algorithm_for(task.algorithm);
    if (!made.ok()) return task_error(task, client_id, made.status());
    ClientAlgorithm* algorithm = *made;
    states_.set_tag(state_tag(half));
    auto loaded_state = states_.load(client_id, task.round);
    if (!loaded_state.ok()) return task_error(task, client_id, loaded_state.status());
    ModelState client_state = std::move(loaded_state).value();
    const bool had_state = !client_state.empty();
    ClientTask client_task = client_task_for(task, client_id, it->second.train.size(), &client_state);
    if (Status begun = algorithm->begin(client_task); !begun.ok())
      return task_error(task, client_id, begun.with_context("client half '" + half + "'"));
    const uint64_t shuffle_seed =
        derive_seed(derive_seed(task.config.seed, static_cast<uint64_t>(task.round)), static_cast<uint64_t>(client_id));
    // Serverless data-parallel SGD: the group agrees on its steps, then averages every step's gradients.
    const bool gradient_sync = collective && task.collective.sync == "gradient";
    GradientExchange exchange;
    if (gradient_sync) {
      auto steps = collective_.agree_steps_per_epoch(task.collective, it->second.train.size(), task.config.batch_size,
                                                     model_state(*model_).byte_size());
      if (!steps.ok()) return collective_failed(task, client_id, steps.status());
      exchange.steps_per_epoch = *steps;
      exchange_seconds_ = 0;
      exchange.average = [this](std::span<const at::Tensor> parameters) {
        const auto start = Clock::now();
        Status averaged = collective_.average_gradients(parameters);
        exchange_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
        return averaged;
      };
    }
    auto trained = train_local(*model_, it->second.train, task.config, device, shuffle_seed, algorithm,
                               gradient_sync ? &exchange : nullptr);
    if (!trained.ok()) {
      if (gradient_sync) return collective_failed(task, client_id, trained.status());
      return task_error(task, client_id, trained.status());
    }
    if (holdout.size() > 0) {
      auto after = evaluate(*model_, holdout, device);
      if (after.ok()) update.metrics["local_acc_after"] = after->accuracy;
    }
    update.num_samples = trained->num_samples;
    update.train_loss = trained->mean_loss;
    update.train_seconds = trained->seconds;
    update.steps = trained->steps;
    auto extras = algorithm->finish(client_task, trained->steps);
    if (!extras.ok()) return task_error(task, client_id, extras.status().with_context("client half '" + half + "'"));
    update.extras = extras->clone();
    if (!client_state.empty() || had_state) {
      Status saved = states_.save(client_id, task.round, client_state);
      if (!saved.ok()) return task_error(task, client_id, saved);
    }
    // The gradients are not sent; freeing them now takes a model's worth off the process while
    // the update is sent (the next training step allocates them again).
    for (auto& p : model_->parameters()) p.mutable_grad().reset();
    if (collective) return combine_with_peers(task, client_id, std::move(update), started);
    // On the CPU the frames alias the live parameters (no copy): the next task's
    // load_model_state() gives the model fresh storage if ZeroMQ still holds these bytes then. On
    // a GPU this is the one copy to the host.
    ModelState trained_state = model_state(*model_).to_cpu();
    if (task.secure_aggregation.enabled()) return answer_securely(task, client_id, trained_state, update);
    if (task.privacy.enabled()) {
      auto privatised = privatise(task, trained_state, update);
      if (!privatised.ok()) return task_error(task, client_id, privatised.with_context("--dp"));
    }
    update.compression = task.compression;
    if (task.compression == "none") {
      update.state = std::move(trained_state);
    } else {
      auto payload = compress(task, client_id, trained_state);
      if (!payload.ok())
        return task_error(task, client_id, payload.status().with_context("--compression " + task.compression));
      update.state = std::move(payload).value();
    }
    // An asynchronous study's slow client: the answer leaves this much later, as from a slower
    // device or link. Cancellable, like a hung task.
    if (task.delay_seconds > 0) {
      const auto until =
          Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(task.delay_seconds));
      while (Clock::now() < until && !cancelled.load())
        std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
      update.metrics["delay_seconds"] = task.delay_seconds;
    }
    update.total_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    FLOTILLA_LOG(Debug) << "client " << client_id << " round " << task.round << ": loss " << update.train_loss << " in "
                        << update.train_seconds << " s";
    return encode(update);
  }

  // The rest of a decentralised round: the model is averaged (ring) or mixed (gossip) with the
  // group's, kept for the next round, and sent back only when the task asks for it (evaluation).
  Frames combine_with_peers(const msg::RoundTask& task, int client_id, msg::ClientUpdate update,
                            Clock::time_point started) {
    const auto combine_start = Clock::now();
    ModelState live = model_state(*model_);  // the parameters themselves: combined in place
    StatusOr<CollectiveStats> stats = CollectiveStats();
    double earlier_seconds = 0;  // in collectives during training
    if (task.collective.sync == "gradient") {
      earlier_seconds = exchange_seconds_;
      // The parameters are the group's already; the buffers each member updated alone are not.
      ModelState buffers;
      const size_t num_parameters = model_->parameters().size();
      int64_t gradient_bytes = 0;
      for (size_t i = 0; i < live.size(); ++i) {
        if (i < num_parameters)
          gradient_bytes += live[i].tensor.numel() * 4;
        else if (live[i].tensor.scalar_type() == at::kFloat)
          buffers.add(live[i].name, live[i].tensor);
      }
      update.metrics["gradient_bytes"] = static_cast<double>(gradient_bytes);  // all-reduced at every step
      stats = collective_.finish_gradient_round(buffers, static_cast<double>(update.num_samples));
    } else {
      stats = collective_.combine(task.collective, live, static_cast<double>(update.num_samples));
    }
    if (!stats.ok()) return collective_failed(task, client_id, stats.status());
    collective_round_ = task.round;
    collective_client_ = client_id;
    update.metrics["peer_bytes_sent"] = static_cast<double>(stats->bytes_sent);
    update.metrics["peer_bytes_received"] = static_cast<double>(stats->bytes_received);
    update.metrics["collective_steps"] = stats->steps;
    update.metrics["collective_seconds"] =
        earlier_seconds + std::chrono::duration<double>(Clock::now() - combine_start).count();
    if (task.collective.report_model) update.state = model_state(*model_).to_cpu().clone();
    update.total_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return encode(update);
  }

  // Secure aggregation: the update stays here; the task's answer is the client's keys and what it
  // says of its training (its update's norm among them), and the protocol goes on in run(step).
  Frames answer_securely(const msg::RoundTask& task, int client_id, const ModelState& trained,
                         const msg::ClientUpdate& update) {
    msg::SecAggReport report;
    report.train_loss = update.train_loss;
    report.train_seconds = update.train_seconds;
    report.steps = update.steps;
    report.metrics = update.metrics;
    auto step = secure_.begin(task, client_id, trained, update.extras, update.num_samples, std::move(report));
    if (!step.ok()) return task_error(task, client_id, step.status().with_context("secure aggregation"));
    if (!*step) return {};
    return encode(**step);
  }

  Frames run(const msg::SecAggStep& step) {
    auto answer = secure_.answer(step);
    if (!answer.ok()) return error_reply(step.client_id, step.round, answer.status(), step.task_id);
    if (!*answer) return {};
    return encode(**answer);
  }

  // A failed collective leaves this member's model partly combined: it is no longer the group's.
  Frames collective_failed(const msg::RoundTask& task, int client_id, const Status& status) {
    collective_round_ = 0;
    return task_error(task, client_id, status.with_context(task.collective.topology));
  }

  Status check_collective_continues(const msg::RoundTask& task, int client_id) const {
    if (collective_round_ == task.round - 1 && collective_client_ == client_id) return Status();
    return failed_precondition_error(
        "round " + std::to_string(task.round) + " of a decentralised run continues client " +
        std::to_string(client_id) + "'s model of round " + std::to_string(task.round - 1) + ", which this process " +
        (collective_round_ == 0 ? "does not hold (it restarted, or its last collective failed)"
                                : "does not hold (it holds round " + std::to_string(collective_round_) + "'s)"));
  }

  Frames run(const msg::EvaluateTask& task, int client_id) {
    auto reply_error = [&](const Status& status) { return error_reply(client_id, task.round, status, task.task_id); };
    auto it = clients_.find(client_id);
    if (!model_ || it == clients_.end())
      return reply_error(invalid_argument_error("this process does not host that client"));
    normalise_as_told(it->second, task.config);
    const ClientData& mine = it->second;
    const TensorDataset& data = mine.test.size() > 0 ? mine.test : mine.holdout;
    if (data.size() == 0)
      return reply_error(failed_precondition_error(
          "client " + std::to_string(client_id) +
          " has no test data to evaluate on: no test split of its own and --holdout-fraction 0"));
    Status loaded = load_model_state(*model_, task.state);
    if (!loaded.ok()) return reply_error(loaded);
    auto result = evaluate(*model_, data, options_.device);
    if (!result.ok()) return reply_error(result.status());
    msg::EvaluateResult out{task.round, client_id, result->num_samples, result->loss, result->accuracy,
                            {},         {},        task.task_id};
    if (!options_.withhold_label_counts) {
      out.class_total = result->class_total;
      out.class_correct = result->class_correct;
    }
    return encode(out);
  }

 private:
  // The update (trained - global) in the task's codec. Error feedback, when the codec wants it,
  // keeps each logical client's residual (what its payloads have not carried yet) in a store of
  // its own, versioned by round like the client halves' states.
  StatusOr<ModelState> compress(const msg::RoundTask& task, int client_id, const ModelState& trained) {
    auto found = codecs_.find(task.compression);
    if (found == codecs_.end()) {
      ASSIGN_OR_RETURN(CodecSpec spec, parse_codec_spec(task.compression));
      ASSIGN_OR_RETURN(std::unique_ptr<UpdateCodec> made, make_codec(spec));
      found = codecs_.emplace(task.compression, std::move(made)).first;
    }
    const UpdateCodec& codec = *found->second;
    ASSIGN_OR_RETURN(ModelState delta, compute_delta(trained, task.state));
    // Stochastic codecs draw from (seed, round, client): reproducible, and independent across
    // clients so that their quantisation errors do not correlate.
    const uint64_t seed = derive_seed(derive_seed(derive_seed(task.config.seed, kCompressionStream), task.round),
                                      static_cast<uint64_t>(client_id));
    if (!codec.wants_error_feedback()) return codec.encode(delta, seed);
    residuals_.set_tag(state_tag("error feedback/" + task.compression));
    ASSIGN_OR_RETURN(ModelState residual, residuals_.load(client_id, task.round));
    ASSIGN_OR_RETURN(ModelState payload, codec.encode(delta, seed, &residual));
    RETURN_IF_ERROR(residuals_.save(client_id, task.round, residual));
    return payload;
  }

  // Differential privacy: the update leaves clipped (and, for local DP, noised; the noise's seed is
  // secret, drawn here and never sent) in place of the trained model; adaptive clipping also
  // gets to know whether it was within the clip norm.
  static Status privatise(const msg::RoundTask& task, ModelState& trained, msg::ClientUpdate& update) {
    uint64_t noise_seed = 0;
    if (task.privacy.noise_stddev > 0) {
      ASSIGN_OR_RETURN(noise_seed, secret_seed());
    }
    ASSIGN_OR_RETURN(PrivatisedUpdate privatised, privatise_update(task.state, trained, task.privacy.clip_norm,
                                                                   task.privacy.noise_stddev, noise_seed));
    trained = std::move(privatised.state);
    if (task.privacy.report_unclipped)
      update.extras.add(kUnclippedExtra, at::scalar_tensor(privatised.within_clip_norm ? 1.0 : 0.0, at::kFloat));
    return Status();
  }

  // One instance per client half and options, built on first use and reused.
  StatusOr<ClientAlgorithm*> algorithm_for(const ClientHalf& half) {
    auto key = std::make_pair(half.name, half.options);
    if (auto found = algorithms_.find(key); found != algorithms_.end()) return found->second.get();
    if (!options_.algorithms->contains(half.name)) {
      return failed_precondition_error("this client has no client half '" + half.name +
                                       "' (it has: " + options_.algorithms->joined_names() +
                                       "); start it with --plugin naming the library that defines it");
    }
    ASSIGN_OR_RETURN(std::unique_ptr<ClientAlgorithm> made,
                     options_.algorithms->create(half.name, Options(half.options)));
    return algorithms_.emplace(std::move(key), std::move(made)).first->second.get();
  }

  // States of another experiment or algorithm (in a reused --client-state-dir) are not mixed in.
  std::string state_tag(const std::string& half) const {
    return experiment_.dataset + "/" + experiment_.model + "/" + std::to_string(experiment_.num_clients) + " clients/" +
           experiment_.partitioner + "/seed " + std::to_string(experiment_.seed) + "/" + half;
  }

  ClientTask client_task_for(const msg::RoundTask& task, int client_id, int64_t num_samples, ModelState* state) {
    ClientTask t;
    t.client_id = client_id;
    t.round = task.round;
    t.config = &task.config;
    t.device = options_.device;
    t.num_samples = num_samples;
    t.global = &task.state;
    t.server_extras = &task.extras;
    t.state = state;
    for (const auto& item : model_->named_parameters()) {
      t.parameter_names.push_back(item.key());
      t.parameters.push_back(item.value());
    }
    t.model = model_.get();
    t.make_model = [this](const ModelState& weights) -> StatusOr<std::shared_ptr<Model>> {
      ASSIGN_OR_RETURN(std::shared_ptr<Model> copy, create_model(experiment_.model, model_spec_));
      RETURN_IF_ERROR(load_model_state(*copy, weights));
      copy->to(options_.device);
      copy->eval();
      return copy;
    };
    return t;
  }

  TaskRunnerOptions options_;
  ClientStateStore states_;
  ClientStateStore residuals_;                                  // error feedback of compressed updates
  std::map<std::string, std::unique_ptr<UpdateCodec>> codecs_;  // by canonical spec
  std::map<std::pair<std::string, std::map<std::string, std::string>>, std::unique_ptr<ClientAlgorithm>> algorithms_;
  ModelSpec model_spec_;
  Experiment experiment_;
  std::map<int, ClientData> clients_;  // on the training device
  // --local-data: each hosted client's own files as read, kept beside clients_' slices of them so
  // that a welcome to another run (a coordinator restarted with new settings) can split them anew.
  std::map<int, LocalClientData> local_;
  std::shared_ptr<Model> model_;
  CollectiveMember collective_;
  SecureAggregationMember secure_{options_.secagg_dropout};
  // Decentralised runs keep the model here between rounds: the round and client it is the
  // result of (0: none yet).
  int collective_round_ = 0;
  int collective_client_ = -1;
  double exchange_seconds_ = 0;  // the gradient round's all-reduces so far
};

TaskRunner::TaskRunner(TaskRunnerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
TaskRunner::~TaskRunner() = default;
Status TaskRunner::welcome(const msg::Welcome& welcome) { return impl_->welcome(welcome); }
bool TaskRunner::ready() const { return impl_->ready(); }
Frames TaskRunner::run(const msg::RoundTask& task, int client_id, const std::atomic<bool>& cancelled) {
  return impl_->run(task, client_id, cancelled);
}
Frames TaskRunner::run(const msg::EvaluateTask& task, int client_id) { return impl_->run(task, client_id); }
Frames TaskRunner::run(const msg::SecAggStep& step) { return impl_->run(step); }
StatusOr<std::vector<msg::DataReport>> TaskRunner::load_local_data(const std::vector<int>& client_ids) {
  return impl_->load_local_data(client_ids);
}

}  // namespace flotilla
