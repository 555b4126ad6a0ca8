// Writes the fuzzers' seed inputs from real messages and files, made by the same code that makes
// them in a run: every kind of protocol message through flotilla::encode (in frame_split.h's
// form), small MNIST IDX files and CIFAR-10 batches through the datasets' writers (plain and
// gzipped), and, when the coordinator has checkpoints, a small checkpoint. Seeds start libFuzzer
// inside the valid formats instead of making it discover protobuf and IDX headers by chance.
//
//   fuzz_seed_corpus OUT_DIR     writes OUT_DIR/<target>/<seed>, replacing those folders
//
// tests/fuzz/corpus/ holds this output plus the crash inputs found since; ctest replays both.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/checkpoint_file.h"
#include "datasets/cifar10_bin.h"
#include "datasets/file_bytes.h"
#include "datasets/mnist_idx.h"
#include "frame_split.h"
#include "protocol/codec.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;

// A tiny model state with one tensor of each wire dtype, a scalar and an empty tensor: what the
// decoder must handle, at a few hundred bytes.
ModelState tiny_state() {
  ModelState s;
  s.add("conv.weight", at::arange(8, at::kFloat).view({2, 1, 2, 2}));
  s.add("conv.bias", at::tensor({0.5, -0.5}, at::kDouble));
  s.add("bn.num_batches_tracked", at::tensor(int64_t{7}));
  s.add("mask", at::tensor({1, 0, 1}, at::kByte).to(at::kBool));
  s.add("half", at::arange(3, at::kFloat).to(at::kHalf));
  s.add("bf16", at::arange(2, at::kFloat).to(at::kBFloat16));
  s.add("i32", at::tensor({-1, 2}, at::kInt));
  s.add("i16", at::tensor({3}, at::kShort));
  s.add("i8", at::tensor({-4}, at::kChar));
  s.add("u8", at::tensor({200}, at::kByte));
  s.add("empty", at::zeros({0, 3}));
  return s;
}

std::vector<std::pair<std::string, Message>> messages() {
  msg::Register reg;
  reg.client_ids = {0, 1, 2};
  reg.capabilities = {"host-a", 4242, "cpu", 8, "tcp://10.0.0.2:41000"};

  msg::Welcome welcome;
  welcome.client_ids = {0, 1, 2};
  welcome.experiment.dataset = "mnist";
  welcome.experiment.model = "mnist_cnn";
  welcome.experiment.num_clients = 10;
  welcome.experiment.partitioner = "dirichlet";
  welcome.experiment.partitioner_options["alpha"] = "0.5";
  welcome.experiment.seed = 1;
  welcome.experiment.holdout_fraction = 0.1;

  msg::RoundTask task;
  task.round = 3;
  task.client_ids = {1};
  task.config.epochs = 2;
  task.config.augment = std::string(kAugmentCropFlip);
  task.config.prox_mu = 0.01;
  task.state = tiny_state();

  msg::RoundTask with_extras = task;  // protocol 3: a client half and the server's extras
  with_extras.algorithm = {"scaffold", {{"server_lr", "1.0"}}};
  with_extras.extras.add("c/conv.weight", at::arange(8, at::kFloat).view({2, 1, 2, 2}));
  with_extras.extras.add("c/conv.bias", at::tensor({0.25, -0.25}, at::kDouble));

  msg::ClientUpdate update;
  update.round = 3;
  update.client_id = 1;
  update.num_samples = 600;
  update.train_loss = 0.25;
  update.train_seconds = 1.5;
  update.total_seconds = 1.75;
  update.metrics = {{"local_acc_before", 0.5}, {"local_acc_after", 0.75}};
  update.state = tiny_state();

  msg::ClientUpdate update_with_extras = update;
  update_with_extras.steps = 38;
  update_with_extras.extras.add("delta_c/conv.weight", at::ones({2, 1, 2, 2}));
  update_with_extras.extras.add("fednova/a", at::scalar_tensor(12.5, at::kDouble));

  msg::ClientUpdate one_tensor;  // the smallest update: a single float tensor
  one_tensor.round = 1;
  one_tensor.client_id = 0;
  one_tensor.num_samples = 1;
  one_tensor.state.add("w", at::ones({2, 2}));

  msg::RoundTask for_three = task;  // protocol 4: one task for a process's clients, compressed
  for_three.client_ids = {1, 4, 9};
  for_three.compression = "topk:error_feedback=1,ratio=0.5";

  msg::ClientUpdate compressed = update;  // a top-k payload of the tiny state's float tensors
  compressed.compression = for_three.compression;
  compressed.state = ModelState();
  for (const auto& e : update.state.entries()) {
    if (!e.tensor.is_floating_point()) {
      compressed.state.add(e.name, e.tensor);
      continue;
    }
    const int64_t k = std::max<int64_t>(1, (e.tensor.numel() + 1) / 2);
    compressed.state.add(e.name + "#idx", at::arange(k, at::kInt));
    compressed.state.add(e.name + "#val", at::ones({k}));
  }

  msg::EvaluateTask evaluate;  // protocol 8: for several clients, with the run's normalisation
  evaluate.round = 4;
  evaluate.client_ids = {2, 5};
  evaluate.config = task.config;
  evaluate.config.input_mean = {0.5};
  evaluate.config.input_std = {0.25};
  evaluate.task_id = 0x8000000000000002ULL;
  evaluate.state = tiny_state();

  // Protocol 8: a site's own data described at registration, and a shipped TorchScript archive.
  msg::Register with_data = reg;
  with_data.client_ids = {0, 1};
  with_data.model_sha256 = std::string(64, 'a');
  for (int id : with_data.client_ids) {
    msg::DataReport d;
    d.client_id = id;
    d.train_samples = 6;
    d.test_samples = 2;
    d.sample_shape = {1, 2, 2};
    d.dtype = "uint8";
    d.num_classes = 3;
    d.label_counts = {1, 2, 3};
    d.input_sum = {3.5};
    d.input_sum_sq = {2.25};
    d.input_count = 24;
    with_data.data.push_back(d);
  }
  msg::Welcome shipping = welcome;
  shipping.experiment.dataset = "local";
  shipping.experiment.sample_shape = {1, 2, 2};
  shipping.experiment.num_classes = 3;
  shipping.model_archive = std::string("PK\x03\x04 not really an archive", 30);

  msg::RoundTask gossip = task;  // protocol 5: a decentralised round, a slowed client, Hogwild
  gossip.state = ModelState();
  gossip.delay_seconds = 0.5;
  gossip.config.local_threads = 2;
  gossip.collective.topology = "gossip";
  gossip.collective.rank = 1;
  gossip.collective.report_model = true;
  gossip.collective.peers = {{0, 0, "tcp://10.0.0.1:41000", "", 0.25},
                             {1, 1, "tcp://10.0.0.2:41000", "", 0.5},
                             {2, 2, "tcp://10.0.0.3:41000", "", 0.25}};

  // Protocol 6: tasks are named, and answers name the task they answer.
  msg::RoundTask named = task;
  named.task_id = 0x8000000000000001ULL;
  msg::ClientUpdate answering = update;
  answering.task_id = named.task_id;

  // Protocol 10: secure aggregation's tasks and steps.
  msg::RoundTask secure = named;
  secure.secure_aggregation = {{1, 2, 3}, 2, 0, 99, 40, 5000.0, 100.0, false, 0.0, 0.0, false};
  msg::SecAggStep keys;
  keys.round = 3;
  keys.task_id = named.task_id;
  keys.client_id = 2;
  keys.keys = {{2, std::string(32, '\x11'), std::string(32, '\x22')}};
  keys.report.train_loss = 0.25;
  keys.report.update_norm = 1.5;
  msg::SecAggStep masked = keys;
  masked.stage = 2;
  masked.keys.clear();
  masked.masked.add("fc.weight", at::arange(6, at::kLong));
  masked.masked.add("secagg/tail", at::ones({1}, at::kLong));
  msg::SecAggStep unmask = keys;
  unmask.stage = 3;
  unmask.keys.clear();
  unmask.self_mask_shares = {{1, 2, {1, 2, 3, 4, 5}}};
  unmask.mask_key_shares = {{3, 2, {6, 7, 8, 9, 10}}};

  return {{"register", reg},
          {"welcome", welcome},
          {"round_task_secure", secure},
          {"secagg_keys", keys},
          {"secagg_masked", masked},
          {"secagg_unmask", unmask},
          {"round_task_gossip", gossip},
          {"round_task", task},
          {"round_task_named", named},
          {"client_update_named", answering},
          {"round_task_extras", with_extras},
          {"round_task_three_clients", for_three},
          {"client_update", update},
          {"client_update_topk", compressed},
          {"client_update_extras", update_with_extras},
          {"client_update_one_tensor", one_tensor},
          {"evaluate_task", evaluate},
          {"evaluate_result", msg::EvaluateResult{4, 2, 100, 0.5, 0.875, {}, {}, evaluate.task_id}},
          {"evaluate_result_classes", msg::EvaluateResult{4, 5, 4, 0.5, 0.75, {2, 2}, {1, 2}, evaluate.task_id}},
          {"register_with_data", with_data},
          {"welcome_shipping_model", shipping},
          {"error", msg::Error{static_cast<int>(StatusCode::kInvalidArgument), "bad round", 1, 3, 77}},
          {"shutdown", msg::Shutdown{"done"}},
          {"heartbeat", msg::Heartbeat{}},
          {"upload_offer", msg::UploadOffer{named.task_id, 3, 6653000}},
          {"upload_grant", msg::UploadGrant{named.task_id, 3, true}}};
}

Status write_envelopes(const fs::path& dir) {
  for (const auto& [name, message] : messages()) {
    std::vector<std::string> frames;
    for (const Frame& f : encode(message)) frames.emplace_back(f.view());
    const std::string bytes = fuzz::join_frames(frames);
    // A seed that did not decode would start the fuzzer outside the format.
    Frames back;
    for (std::string_view part : fuzz::split_frames(bytes)) back.push_back(Frame::from_string(std::string(part)));
    if (auto decoded = decode(back); !decoded.ok()) return decoded.status().with_context("seed " + name);
    RETURN_IF_ERROR(write_file_bytes((dir / name).string(), bytes, false));
  }
  return Status();
}

at::Tensor pixels(int64_t n, int64_t rows, int64_t cols) {
  return at::arange(n * rows * cols, at::kLong).remainder(256).to(at::kByte).view({n, rows, cols});
}

Status write_idx(const fs::path& dir) {
  for (bool gzip : {false, true}) {
    const std::string ext = gzip ? ".gz" : "";
    RETURN_IF_ERROR(write_idx_images((dir / ("images-3x4x5" + ext)).string(), pixels(3, 4, 5), gzip));
    RETURN_IF_ERROR(write_idx_labels((dir / ("labels-5" + ext)).string(), at::tensor({0, 9, 3, 3, 7}), gzip));
  }
  RETURN_IF_ERROR(write_idx_images((dir / "images-2x28x28").string(), pixels(2, 28, 28), false));
  RETURN_IF_ERROR(write_idx_images((dir / "images-0x28x28").string(), pixels(0, 28, 28), false));
  return write_idx_labels((dir / "labels-0").string(), at::zeros({0}, at::kLong), false);
}

Status write_cifar10(const fs::path& dir) {
  const at::Tensor images = at::arange(3 * 3072, at::kLong).remainder(251).to(at::kByte).view({3, 3, 32, 32});
  RETURN_IF_ERROR(write_cifar10_bin((dir / "batch-3").string(), images, at::tensor({0, 9, 4})));
  RETURN_IF_ERROR(write_cifar10_bin((dir / "batch-1").string(), images.narrow(0, 0, 1), at::tensor({6})));
  // read_file_bytes gunzips by content, so a gzipped batch is a valid input too.
  ASSIGN_OR_RETURN(const std::string one, read_file_bytes((dir / "batch-1").string()));
  return write_file_bytes((dir / "batch-1.gz").string(), one, true);
}

Status write_checkpoint(const fs::path& dir) {
  Checkpoint c;
  c.round = 5;
  c.config_fingerprint = "0123456789abcdef";
  c.aggregator = "fedadam";
  c.model = tiny_state();
  c.aggregator_state.add("m/conv.weight", at::zeros({2, 1, 2, 2}));
  c.aggregator_state.add("v/conv.weight", at::full({2, 1, 2, 2}, 1e-3));
  return write_file_bytes((dir / "checkpoint").string(), serialize_checkpoint(c), false);
}

Status write_all(const fs::path& out) {
  std::vector<std::pair<std::string, Status (*)(const fs::path&)>> targets = {{"envelope_fuzzer", write_envelopes},
                                                                              {"idx_fuzzer", write_idx},
                                                                              {"cifar10_fuzzer", write_cifar10},
                                                                              {"checkpoint_fuzzer", write_checkpoint}};
  for (const auto& [target, write] : targets) {
    const fs::path dir = out / target;
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) return unavailable_error("cannot create " + dir.string() + ": " + ec.message());
    RETURN_IF_ERROR(write(dir));
  }
  return Status();
}

}  // namespace
}  // namespace flotilla

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const flotilla::Status status = flotilla::write_all(argv[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "fuzz_seed_corpus: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
