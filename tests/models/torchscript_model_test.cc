#include "models/torchscript_model.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/digest.h"
#include "models/model_check.h"
#include "models/model_registry.h"
#include "models/torchscript_archive.h"
#include "training/evaluator.h"
#include "training/local_trainer.h"

namespace flotilla {
namespace {

// A module as torch.jit.script makes them: with the "training" attribute that train() sets.
torch::jit::Module jit_module(const std::string& type_name) {
  torch::jit::Module m(type_name);
  m.register_attribute("training", c10::BoolType::get(), true);
  return m;
}

// A small network for 1x4x4 inputs and 3 classes, nested as Python's would be:
//   temperature              a frozen parameter (requires_grad false)
//   conv.{weight,bias}       3x3 convolution to 2 channels: 2x2 maps
//   bn.weight                batch-norm-like: in training mode it updates running_mean (assigning a new
//   bn.running_mean          tensor, as `self.running_mean = ...` in Python does) and
//   bn.num_batches_tracked   num_batches_tracked (in place); in eval mode it normalises by running_mean
//   head.fc.{weight,bias}    8 -> 3
// With `with_features`, forward is classify(features(x)) through methods of those names.
torch::jit::Module make_net(bool with_features = true) {
  torch::manual_seed(7);
  torch::jit::Module conv = jit_module("Conv");
  conv.register_parameter("weight", (torch::randn({2, 1, 3, 3}) * 0.5).requires_grad_(), false);
  conv.register_parameter("bias", torch::zeros({2}).requires_grad_(), false);
  torch::jit::Module bn = jit_module("Norm");
  bn.register_parameter("weight", torch::ones({2}).requires_grad_(), false);
  bn.register_buffer("running_mean", torch::zeros({2}));
  bn.register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
  torch::jit::Module fc = jit_module("Linear");
  fc.register_parameter("weight", (torch::randn({3, 8}) * 0.3).requires_grad_(), false);
  fc.register_parameter("bias", torch::zeros({3}).requires_grad_(), false);
  torch::jit::Module head = jit_module("Head");
  head.register_module("fc", fc);

  torch::jit::Module net = jit_module(with_features ? "Net" : "PlainNet");
  net.register_parameter("temperature", torch::ones({1}), false);
  net.register_module("conv", conv);
  net.register_module("bn", bn);
  net.register_module("head", head);
  const std::string body = R"(
def features(self, x):
    h = torch.conv2d(x, self.conv.weight, self.conv.bias)
    if self.bn.training:
        mean = h.mean([0, 2, 3])
        self.bn.running_mean = 0.9 * self.bn.running_mean + 0.1 * mean.detach()
        self.bn.num_batches_tracked.add_(1)
    else:
        mean = self.bn.running_mean
    h = (h - mean.view(1, -1, 1, 1)) * self.bn.weight.view(1, -1, 1, 1)
    return torch.relu(h).flatten(1)
def classify(self, z):
    return torch.linear(z, self.head.fc.weight, self.head.fc.bias) / self.temperature
)";
  if (with_features) {
    net.define(body + R"(
def forward(self, x):
    return self.classify(self.features(x))
)");
  } else {
    // The same computation, in forward alone.
    std::string plain = body;
    plain.replace(plain.find("def features"), 12, "def forward_features");
    plain.replace(plain.find("def classify"), 12, "def forward_classify");
    net.define(plain + R"(
def forward(self, x):
    return self.forward_classify(self.forward_features(x))
)");
  }
  return net;
}

std::string archive_bytes(const torch::jit::Module& m) {
  std::ostringstream out;
  m.save(out);
  return out.str();
}

// Adds `m` to the store; returns its digest.
std::string add(const torch::jit::Module& m) {
  auto sha = add_torchscript_archive(archive_bytes(m));
  EXPECT_TRUE(sha.ok()) << sha.status();
  return sha.ok() ? *sha : "";
}

std::shared_ptr<Model> build(const std::string& sha) {
  auto model = create_model(torchscript_model_name(sha), ModelSpec{1, 4, 4, 3});
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : nullptr;
}

std::vector<std::string> names_of(const ModelState& state) {
  std::vector<std::string> out;
  for (const auto& e : state.entries()) out.push_back(e.name);
  return out;
}

// 1x4x4 float images whose class (of 3) is where a bright pixel is.
TensorDataset make_data(int64_t n) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
  TensorDataset d;
  d.num_classes = 3;
  d.labels = at::randint(0, 3, {n}, gen, at::TensorOptions().dtype(at::kLong));
  d.images = at::randn({n, 1, 4, 4}, gen) * 0.3;
  for (int64_t i = 0; i < n; ++i) d.images[i][0][d.labels[i].item<int64_t>()][1] += 2.0;
  return d;
}

std::string temp_path(const std::string& leaf) {
  return (std::filesystem::temp_directory_path() / ("flotilla_ts_" + std::to_string(getpid()) + "_" + leaf)).string();
}

TEST(TorchScriptModelTest, StateNamesAreTheStateDictNames) {
  torch::jit::Module net = make_net();
  auto model = build(add(net));
  ASSERT_NE(model, nullptr);
  const ModelState state = model_state(*model);
  // Parameters then buffers, as for every Model (Python's state_dict interleaves them module by module).
  EXPECT_EQ(names_of(state),
            (std::vector<std::string>{"temperature", "conv.weight", "conv.bias", "bn.weight", "head.fc.weight",
                                      "head.fc.bias", "bn.running_mean", "bn.num_batches_tracked"}));
  std::set<std::string> jit_names;
  for (const auto& p : net.named_parameters()) jit_names.insert(p.name);
  for (const auto& b : net.named_buffers()) jit_names.insert(b.name);
  const auto ours = names_of(state);
  EXPECT_EQ(std::set<std::string>(ours.begin(), ours.end()), jit_names);
  EXPECT_EQ(state.find("bn.num_batches_tracked")->scalar_type(), at::kLong);
  // The frozen parameter stays a parameter and frozen; the others train.
  auto params = model->named_parameters();
  EXPECT_FALSE(params["temperature"].requires_grad());
  EXPECT_TRUE(params["head.fc.weight"].requires_grad());
  // The archive's weights, not new ones.
  EXPECT_TRUE(at::equal(*state.find("head.fc.weight"),
                        net.attr("head").toModule().attr("fc").toModule().attr("weight").toTensor()));
}

TEST(TorchScriptModelTest, BuffersMoveInTrainingModeOnly) {
  auto model = build(add(make_net()));
  ASSERT_NE(model, nullptr);
  const ModelState state = model_state(*model);  // views: they follow the model's tensors
  const at::Tensor x = torch::randn({5, 1, 4, 4});
  model->eval();
  (void)model->forward(x);
  EXPECT_TRUE(state.find("bn.running_mean")->eq(0).all().item<bool>());
  EXPECT_EQ(state.find("bn.num_batches_tracked")->item<int64_t>(), 0);
  model->train();
  (void)model->forward(x);
  (void)model->forward(x);
  EXPECT_EQ(state.find("bn.num_batches_tracked")->item<int64_t>(), 2);
  // The code assigned running_mean a new tensor; the model's own tensor (and this view) hold it.
  EXPECT_FALSE(state.find("bn.running_mean")->eq(0).all().item<bool>());
  EXPECT_TRUE(at::equal(*state.find("bn.running_mean"), *model_state(*model).find("bn.running_mean")));
  const at::Tensor kept = state.find("bn.running_mean")->clone();
  model->eval();
  at::Tensor eval_out = model->forward(x);
  EXPECT_TRUE(at::equal(*state.find("bn.running_mean"), kept));
  // Eval mode reads the running mean the model holds: zeroing it through the state changes the output.
  ModelState zeroed = model_state(*model).clone();
  zeroed.mutable_entries()[6].tensor.zero_();
  ASSERT_TRUE(load_model_state(*model, zeroed).ok());
  EXPECT_FALSE(at::allclose(model->forward(x), eval_out));
}

TEST(TorchScriptModelTest, LoadedStateReachesTheJitModule) {
  auto model = build(add(make_net()));
  ASSERT_NE(model, nullptr);
  model->eval();
  const at::Tensor x = torch::randn({4, 1, 4, 4});
  ModelState target = model_state(*model).clone();
  target.mutable_entries()[4].tensor.zero_();                                // head.fc.weight
  target.mutable_entries()[5].tensor.copy_(torch::tensor({1.f, 2.f, 3.f}));  // head.fc.bias
  target.mutable_entries()[0].tensor.fill_(2.0);                             // temperature
  // In place (nobody else holds the storage) ...
  ASSERT_TRUE(load_model_state(*model, target).ok());
  EXPECT_TRUE(at::equal(model->forward(x), torch::tensor({0.5f, 1.f, 1.5f}).expand({4, 3})));
  // ... and with fresh storage while a view of the old is held (an update being sent).
  const ModelState sent = model_state(*model);
  target.mutable_entries()[5].tensor.copy_(torch::tensor({4.f, 6.f, 8.f}));
  ASSERT_TRUE(load_model_state(*model, target).ok());
  EXPECT_TRUE(at::equal(model->forward(x), torch::tensor({2.f, 3.f, 4.f}).expand({4, 3})));
  EXPECT_TRUE(at::equal(*sent.find("head.fc.bias"), torch::tensor({1.f, 2.f, 3.f})));
  // Gradients reach the module's tensors, which the optimiser steps.
  model->train();
  model->forward(x).sum().backward();
  for (const auto& p : model->named_parameters())
    EXPECT_EQ(p.value().grad().defined(), p.key() != "temperature") << p.key();
}

TEST(TorchScriptModelTest, FeaturesAndClassifyWhenTheModuleHasThem) {
  auto with = build(add(make_net(true)));
  auto without = build(add(make_net(false)));
  ASSERT_NE(with, nullptr);
  ASSERT_NE(without, nullptr);
  EXPECT_TRUE(with->provides_features());
  EXPECT_FALSE(without->provides_features());
  for (auto& m : {with, without}) m->eval();
  const at::Tensor x = torch::randn({3, 1, 4, 4});
  EXPECT_EQ(with->features(x).sizes(), (at::IntArrayRef{3, 8}));
  EXPECT_TRUE(at::equal(with->forward(x), with->classify(with->features(x))));
  // Without them features() is the logits and classify() the identity; the same weights give the same logits.
  EXPECT_EQ(without->features(x).sizes(), (at::IntArrayRef{3, 3}));
  EXPECT_TRUE(at::equal(without->forward(x), with->forward(x)));
  EXPECT_TRUE(at::equal(without->classify(without->features(x)), without->forward(x)));
  // Built-in models have a representation.
  auto mlp = create_model("mlp", ModelSpec{1, 4, 4, 3});
  ASSERT_TRUE(mlp.ok());
  EXPECT_TRUE((*mlp)->provides_features());
}

TEST(TorchScriptModelTest, TrainsWithTheLocalTrainerAndRepeatsBitForBit) {
  const std::string sha = add(make_net());
  const TensorDataset data = make_data(256);
  TrainConfig config;
  config.epochs = 4;
  config.batch_size = 16;
  config.lr = 0.05;
  std::string digests[2];
  for (auto& digest : digests) {
    auto model = build(sha);
    ASSERT_NE(model, nullptr);
    auto before = evaluate(*model, data, c10::kCPU);
    ASSERT_TRUE(before.ok()) << before.status();
    auto trained = train_local(*model, data, config, c10::kCPU, /*shuffle_seed=*/5);
    ASSERT_TRUE(trained.ok()) << trained.status();
    auto after = evaluate(*model, data, c10::kCPU);
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_LT(after->loss, 0.5 * before->loss);
    EXPECT_GT(after->accuracy, 0.9);
    EXPECT_EQ(model_state(*model).find("bn.num_batches_tracked")->item<int64_t>(), 4 * 16);
    digest = model_sha256(model_state(*model));
  }
  EXPECT_EQ(digests[0], digests[1]);
}

TEST(TorchScriptModelTest, HogwildReplicasAreBuiltFromTheArchive) {
  auto model = build(add(make_net()));
  ASSERT_NE(model, nullptr);
  const TensorDataset data = make_data(256);
  TrainConfig config;
  config.epochs = 3;
  config.batch_size = 16;
  config.lr = 0.05;
  config.local_threads = 2;
  auto before = evaluate(*model, data, c10::kCPU);
  ASSERT_TRUE(before.ok());
  auto trained = train_local(*model, data, config, c10::kCPU, 5);
  ASSERT_TRUE(trained.ok()) << trained.status();
  auto after = evaluate(*model, data, c10::kCPU);
  ASSERT_TRUE(after.ok());
  EXPECT_LT(after->loss, 0.5 * before->loss);
}

TEST(TorchScriptModelTest, NamesResolveFromPathsAndDigests) {
  const std::string bytes = archive_bytes(make_net());
  const std::string path = temp_path("net.pt");
  {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }
  auto resolved = resolve_model_name("torchscript:" + path);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  const std::string sha = sha256_hex(bytes);
  EXPECT_EQ(*resolved, "torchscript:" + sha);
  EXPECT_TRUE(is_torchscript_model(*resolved));
  ASSERT_TRUE(torchscript_sha_of(*resolved).ok());
  EXPECT_EQ(*torchscript_sha_of(*resolved), sha);
  ASSERT_NE(find_torchscript_archive(sha), nullptr);
  EXPECT_EQ(*find_torchscript_archive(sha), bytes);
  // The digest name resolves to itself once the store has it.
  ASSERT_TRUE(resolve_model_name(*resolved).ok());
  EXPECT_EQ(*resolve_model_name(*resolved), *resolved);
  std::remove(path.c_str());

  const std::string unknown = "torchscript:" + std::string(64, 'e');
  auto missing = resolve_model_name(unknown);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(std::string(64, 'e')), std::string::npos) << missing.status();
  EXPECT_NE(missing.status().message().find("PATH"), std::string::npos) << missing.status();
  auto unbuilt = create_model(unknown, ModelSpec{1, 4, 4, 3});
  ASSERT_FALSE(unbuilt.ok());
  EXPECT_EQ(unbuilt.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unbuilt.status().message().find(std::string(64, 'e')), std::string::npos) << unbuilt.status();

  auto no_file = resolve_model_name("torchscript:/nonexistent/net.pt");
  ASSERT_FALSE(no_file.ok());
  EXPECT_EQ(no_file.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_file.status().message().find("/nonexistent/net.pt"), std::string::npos) << no_file.status();

  EXPECT_EQ(*resolve_model_name("mnist_net"), "mnist_net");
  EXPECT_EQ(*resolve_model_name("wide_mlp:hidden=8"), "wide_mlp:hidden=8");
  EXPECT_FALSE(torchscript_sha_of("torchscript:" + std::string(64, 'E')).ok());
  EXPECT_FALSE(torchscript_sha_of("torchscript:" + std::string(63, 'e')).ok());
  EXPECT_FALSE(torchscript_sha_of("mnist_net").ok());
  // A path must be resolved before a model is built from it.
  auto unresolved = create_model("torchscript:net.pt", ModelSpec{1, 4, 4, 3});
  ASSERT_FALSE(unresolved.ok());
  EXPECT_NE(unresolved.status().message().find("resolve_model_name"), std::string::npos) << unresolved.status();
  bool listed = false;
  for (const auto& info : list_models()) listed |= info.name == "torchscript";
  EXPECT_TRUE(listed);
}

TEST(TorchScriptModelTest, CorruptArchivesAreRefused) {
  std::string bytes = archive_bytes(make_net());
  auto truncated = add_torchscript_archive(bytes.substr(0, bytes.size() / 2));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(truncated.status().message().find("TorchScript"), std::string::npos) << truncated.status();
  auto garbage = add_torchscript_archive("not a zip file at all");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(garbage.status().message().find("Exception raised from"), std::string::npos) << "no C++ backtrace";
  torch::jit::Module no_forward = jit_module("NoForward");
  no_forward.register_parameter("w", torch::ones({1}), false);
  auto headless = add_torchscript_archive(archive_bytes(no_forward));
  ASSERT_FALSE(headless.ok());
  EXPECT_NE(headless.status().message().find("forward"), std::string::npos) << headless.status();
}

TEST(TorchScriptModelTest, TiedWeightsAreRefused) {
  torch::jit::Module net = jit_module("Tied");
  at::Tensor w = torch::randn({3, 16}).requires_grad_();
  torch::jit::Module a = jit_module("A"), b = jit_module("B");
  a.register_parameter("weight", w, false);
  b.register_parameter("weight", w, false);
  net.register_module("encoder", a);
  net.register_module("decoder", b);
  net.define("def forward(self, x):\n    return torch.linear(x.flatten(1), self.encoder.weight)\n");
  auto model = create_model(torchscript_model_name(add(net)), ModelSpec{1, 4, 4, 3});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("encoder.weight"), std::string::npos) << model.status();
  EXPECT_NE(model.status().message().find("decoder.weight"), std::string::npos) << model.status();
}

TEST(TorchScriptModelTest, InputCheckNamesBothShapes) {
  auto model = build(add(make_net()));
  ASSERT_NE(model, nullptr);
  model->train();
  const int64_t right[] = {1, 4, 4};
  EXPECT_TRUE(check_model_input(*model, right, 3).ok());
  EXPECT_TRUE(model->is_training()) << "the check restores the mode";
  EXPECT_EQ(model_state(*model).find("bn.num_batches_tracked")->item<int64_t>(), 0) << "eval mode: no update";

  const int64_t wrong[] = {1, 5, 5};
  Status s = check_model_input(*model, wrong, 3);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("1x5x5"), std::string::npos) << s;
  EXPECT_NE(s.message().find("2x18 and 8x3"), std::string::npos) << s;  // torch's own words
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s;
  EXPECT_TRUE(model->is_training());

  s = check_model_input(*model, right, 10);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("[2, 3]"), std::string::npos) << s;
  EXPECT_NE(s.message().find("1x4x4"), std::string::npos) << s;
  EXPECT_NE(s.message().find("at least 10 classes"), std::string::npos) << s;

  // A forward that returns a tuple.
  torch::jit::Module pair = jit_module("Pair");
  pair.define("def forward(self, x):\n    return x, x\n");
  auto paired = build(add(pair));
  ASSERT_NE(paired, nullptr);
  s = check_model_input(*paired, right, 3);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Tuple"), std::string::npos) << s;

  // Every parameter frozen (requires_grad=False, as a Python user may set): nothing to train.
  torch::jit::Module frozen = jit_module("Frozen");
  frozen.register_parameter("w", at::ones({16, 3}), /*is_buffer=*/false);
  frozen.define("def forward(self, x):\n    return x.flatten(1).matmul(self.w)\n");
  auto frozen_model = build(add(frozen));
  ASSERT_NE(frozen_model, nullptr);
  s = check_model_input(*frozen_model, right, 3);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no trainable parameter"), std::string::npos) << s;

  // Built-in models too.
  auto mlp = create_model("mlp", ModelSpec{1, 4, 4, 3});
  ASSERT_TRUE(mlp.ok());
  EXPECT_TRUE(check_model_input(**mlp, right, 3).ok());
  const int64_t colour[] = {3, 4, 4};
  EXPECT_FALSE(check_model_input(**mlp, colour, 3).ok());
}

TEST(TorchScriptModelTest, SavedArchiveHoldsTheNewWeights) {
  const std::string sha = add(make_net());
  auto model = build(sha);
  ASSERT_NE(model, nullptr);
  ASSERT_TRUE(train_local(*model, make_data(64), TrainConfig{}, c10::kCPU, 1).ok());
  model->eval();
  const std::string path = temp_path("final.pt");
  const ModelState state = model_state(*model);
  ASSERT_TRUE(save_torchscript_with_state(sha, state, path).ok());
  torch::jit::Module loaded = torch::jit::load(path);
  loaded.eval();
  for (const auto& p : loaded.named_parameters()) EXPECT_TRUE(at::equal(p.value, *state.find(p.name))) << p.name;
  for (const auto& b : loaded.named_buffers()) EXPECT_TRUE(at::equal(b.value, *state.find(b.name))) << b.name;
  EXPECT_EQ(state.find("bn.num_batches_tracked")->item<int64_t>(), 2);
  const at::Tensor x = torch::randn({4, 1, 4, 4});
  EXPECT_TRUE(at::equal(loaded.forward({x}).toTensor(), model->forward(x)));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::remove(path.c_str());

  ModelState wrong = state.clone();
  wrong.mutable_entries()[1].tensor = torch::zeros({2, 1, 5, 5});
  Status s = save_torchscript_with_state(sha, wrong, path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("conv.weight"), std::string::npos) << s;
  EXPECT_FALSE(std::filesystem::exists(path));
  ModelState renamed = state.clone();
  renamed.mutable_entries()[1].name = "conv.kernel";
  s = save_torchscript_with_state(sha, renamed, path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("conv.kernel"), std::string::npos) << s;
  ModelState fewer;
  for (const auto& e : state.entries())
    if (e.name != "bn.running_mean") fewer.add(e.name, e.tensor);
  s = save_torchscript_with_state(sha, fewer, path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bn.running_mean"), std::string::npos) << s;
  EXPECT_EQ(save_torchscript_with_state(std::string(64, 'e'), state, path).code(), StatusCode::kNotFound);
}

TEST(TorchScriptModelTest, MovingKeepsTheTensorsShared) {
  auto model = build(add(make_net()));
  ASSERT_NE(model, nullptr);
  model->eval();
  std::vector<const void*> before;
  for (const auto& p : model->parameters()) before.push_back(p.unsafeGetTensorImpl());
  model->to(torch::kCPU);
  std::vector<at::Tensor> after = model->parameters();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i].unsafeGetTensorImpl(), before[i]);
  ModelState target = model_state(*model).clone();
  target.mutable_entries()[4].tensor.zero_();
  target.mutable_entries()[5].tensor.fill_(1.0);
  ASSERT_TRUE(load_model_state(*model, target).ok());
  const at::Tensor x = torch::randn({2, 1, 4, 4});
  EXPECT_TRUE(at::equal(model->forward(x), torch::ones({2, 3})));

  // A dtype applies to floating-point tensors, all of them, the jit module's included.
  model->to(torch::kDouble);
  const ModelState doubled = model_state(*model);
  for (const auto& e : doubled.entries())
    EXPECT_EQ(e.tensor.scalar_type(), e.name == "bn.num_batches_tracked" ? at::kLong : at::kDouble) << e.name;
  EXPECT_EQ(model->forward(x.to(torch::kDouble)).scalar_type(), at::kDouble);
  model->to(torch::kFloat);
  EXPECT_TRUE(at::equal(model->forward(x), torch::ones({2, 3})));

  if (!torch::cuda::is_available()) return;
  model->to(torch::kCUDA);
  const ModelState on_gpu = model_state(*model);
  for (const auto& e : on_gpu.entries()) EXPECT_TRUE(e.tensor.is_cuda()) << e.name;
  EXPECT_TRUE(at::equal(model->forward(x.cuda()).cpu(), torch::ones({2, 3})));
}

TEST(TorchScriptModelTest, TrainsOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  auto model = build(add(make_net()));
  ASSERT_NE(model, nullptr);
  model->to(torch::kCUDA);
  TensorDataset data = make_data(256);
  data.images = data.images.cuda();
  data.labels = data.labels.cuda();
  TrainConfig config;
  config.epochs = 4;
  config.batch_size = 16;
  config.lr = 0.05;
  auto before = evaluate(*model, data, torch::kCUDA);
  ASSERT_TRUE(before.ok()) << before.status();
  auto trained = train_local(*model, data, config, torch::kCUDA, 5);
  ASSERT_TRUE(trained.ok()) << trained.status();
  auto after = evaluate(*model, data, torch::kCUDA);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_LT(after->loss, 0.5 * before->loss);
  EXPECT_EQ(model_state(*model).find("bn.num_batches_tracked")->item<int64_t>(), 4 * 16);
  EXPECT_TRUE(model_state(*model).find("bn.running_mean")->is_cuda());
}

// Python's own torch, when this machine has it (CI does not): a model scripted in Python has the
// state names of its state_dict (compared as a set: a Model lists parameters then buffers, where
// state_dict interleaves them module by module), and a state saved from C++ loads back there.
TEST(TorchScriptModelTest, PythonScriptedModelRoundTrips) {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no Python torch";
  const std::string archive = temp_path("py_net.pt"), names = temp_path("py_names.txt"),
                    state_path = temp_path("py_state.pt"), script = temp_path("py_net.py");
  {
    std::ofstream out(script);
    out << R"(import sys, torch
from torch import nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 2 * 2, 3)
    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))
torch.manual_seed(0)
if sys.argv[1] == "save":
    m = Net()
    torch.jit.script(m).save(sys.argv[2])
    open(sys.argv[3], "w").write("\n".join(m.state_dict().keys()))
else:
    m = Net()
    m.load_state_dict(torch.load(sys.argv[2]))
    assert int(m.bn.num_batches_tracked) == 7, m.bn.num_batches_tracked
    assert bool((m.fc.bias == 0.5).all()), m.fc.bias
    print("loaded")
)";
  }
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " save " + archive + " " + names).c_str()), 0);
  auto resolved = resolve_model_name("torchscript:" + archive);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  auto model = create_model(*resolved, ModelSpec{1, 4, 4, 3});
  ASSERT_TRUE(model.ok()) << model.status();
  std::ifstream in(names);
  std::vector<std::string> python_names;
  for (std::string line; std::getline(in, line);) python_names.push_back(line);
  ModelState state = model_state(**model);
  const auto ours = names_of(state);
  EXPECT_EQ(std::set<std::string>(ours.begin(), ours.end()),
            std::set<std::string>(python_names.begin(), python_names.end()));
  EXPECT_EQ(ours.size(), python_names.size());
  const int64_t shape[] = {1, 4, 4};
  EXPECT_TRUE(check_model_input(**model, shape, 3).ok());

  // A state_dict as coordinator/run_recorder.cc writes one.
  ModelState changed = state.clone();
  for (auto& e : changed.mutable_entries()) {
    if (e.name == "fc.bias") e.tensor.fill_(0.5);
    if (e.name == "bn.num_batches_tracked") e.tensor.fill_(7);
  }
  ASSERT_TRUE(load_model_state(**model, changed).ok());
  c10::Dict<std::string, at::Tensor> dict;
  const ModelState saved = model_state(**model);
  for (const auto& e : saved.entries()) dict.insert(e.name, e.tensor);
  const std::vector<char> bytes = torch::pickle_save(dict);
  {
    std::ofstream out(state_path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  EXPECT_EQ(std::system(("/usr/bin/python3 " + script + " load " + state_path).c_str()), 0);
  for (const auto& p : {archive, names, state_path, script}) std::remove(p.c_str());
}

}  // namespace
}  // namespace flotilla
