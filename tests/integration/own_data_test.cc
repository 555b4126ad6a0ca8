// Clients' own data and models on real processes (protocol 8): sites train on their own tensor
// files (--dataset local, --local-data), the model is a TorchScript archive compiled here without
// Python, and each evaluated round the clients evaluate the global model on their own test files.
// Also the refusals: data that does not fit the model, an archive the client did not agree to
// run, a client pinned to another archive; and that a run is reproducible by seed.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/csrc/jit/api/module.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cluster.h"
#include "core/digest.h"
#include "datasets/tensor_file.h"
#include "process.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using flotilla::testing::ChildProcess;
using flotilla::testing::ClusterKeys;
using flotilla::testing::LocalCluster;
using flotilla::testing::make_keys;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int kClasses = 4, kSide = 8;

// Separable images: class k lights up the k-th quadrant, on noise; `seed` makes each site differ.
void write_site(const std::string& dir, int64_t train, int64_t test, uint64_t seed, int64_t side = kSide) {
  fs::create_directories(dir);
  auto make = [&](int64_t n, uint64_t stream, const std::string& path) {
    at::manual_seed(seed * 1000 + stream);
    at::Tensor y = at::randint(0, kClasses, {n}, at::kLong);
    at::Tensor x = at::randint(0, 60, {n, 1, side, side}, at::kLong);
    const int64_t half = side / 2;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = y[i].item<int64_t>();
      x[i].narrow(1, (k / 2) * half, half).narrow(2, (k % 2) * half, half).add_(180);
    }
    ASSERT_TRUE(write_tensor_file(path, x.clamp(0, 255).to(at::kByte), y).ok());
  };
  make(train, 1, dir + "/train.pt");
  if (test > 0) make(test, 2, dir + "/test.pt");
}

// A TorchScript model with nested parameters and a buffer, like a scripted nn.Module: a linear
// layer on the flattened image behind a running mean of the input (updated in training only).
// With `representation`, it also defines features(x) and classify(z), as MOON needs.
std::string write_archive(const std::string& path, bool representation = true) {
  at::manual_seed(3);
  // A module scripted in Python has `training`; one built here must register it (train()/eval() set it).
  torch::jit::Module fc("Linear");
  fc.register_attribute("training", c10::BoolType::get(), true);
  // Trainable, as nn.Parameter makes them in Python.
  fc.register_parameter("weight", (at::randn({kClasses, kSide * kSide}) * 0.05).requires_grad_(), false);
  fc.register_parameter("bias", at::zeros({kClasses}).requires_grad_(), false);
  fc.define(R"(
    def forward(self, x):
        return x.matmul(self.weight.t()) + self.bias
  )");
  torch::jit::Module net("Net");
  net.register_attribute("training", c10::BoolType::get(), true);
  net.register_module("fc", fc);
  net.register_buffer("running_mean", at::zeros({1}));
  if (representation)
    net.define(R"(
    def features(self, x):
        h = x.flatten(1)
        if self.training:
            self.running_mean.mul_(0.9).add_(0.1 * h.mean().detach())
        return h
    def classify(self, z):
        return self.fc.forward(z)
    def forward(self, x):
        return self.classify(self.features(x))
  )");
  else
    net.define(R"(
    def forward(self, x):
        return self.fc.forward(x.flatten(1))
  )");
  net.save(path);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return sha256_hex(bytes);
}

struct Sites {
  std::string root;
  std::string archive;
  std::string sha;
};

Sites make_sites(const LocalCluster& cluster, int clients, bool with_tests = true) {
  Sites s{cluster.dir() + "/sites", cluster.dir() + "/net.pt", ""};
  for (int k = 0; k < clients; ++k)
    write_site(s.root + "/client_" + std::to_string(k), 96 + 16 * k, with_tests ? 32 : 0, 10 + k);
  s.sha = write_archive(s.archive);
  return s;
}

std::vector<std::string> local_flags(const Sites& sites, int clients, int rounds, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--dataset",
                                   "local",
                                   "--clients",
                                   std::to_string(clients),
                                   "--rounds",
                                   std::to_string(rounds),
                                   "--model",
                                   "torchscript:" + sites.archive,
                                   "--input-shape",
                                   "1x8x8",
                                   "--num-classes",
                                   "4",
                                   "--epochs",
                                   "1",
                                   "--batch-size",
                                   "16",
                                   "--lr",
                                   "0.05",
                                   "--momentum",
                                   "0.9",
                                   "--seed",
                                   "7",
                                   "--threads",
                                   "1",
                                   "--registration-timeout",
                                   "90"};
  // A flag of `more` that is already set replaces its value (the coordinator refuses a flag twice).
  for (size_t i = 0; i + 1 < more.size(); i += 2) {
    auto it = std::find(args.begin(), args.end(), more[i]);
    if (it != args.end() && std::next(it) != args.end()) {
      *std::next(it) = more[i + 1];
    } else {
      args.push_back(more[i]);
      args.push_back(more[i + 1]);
    }
  }
  if (more.size() % 2) args.push_back(more.back());
  return args;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(OwnDataTest, SitesTrainOnTheirFilesWithATorchScriptModelAndEvaluateFederatedly) {
  LocalCluster cluster("own-data");
  const Sites sites = make_sites(cluster, 3);
  ASSERT_TRUE(cluster.start_coordinator(local_flags(sites, 3, 3, {"--normalize", "federated"})));
  // Two logical clients in one process, each from its folder, with their own copy of the archive;
  // a third site in its own process, its data in the folder it was given, the archive shipped by
  // the coordinator and accepted because the site pinned its digest.
  cluster.start_client("0-1", {"--local-data", "--data-dir", sites.root, "--model", "torchscript:" + sites.archive});
  cluster.start_client("2", {"--local-data", "--data-dir", sites.root + "/client_2", "--model-sha256", sites.sha});
  ASSERT_EQ(cluster.wait_coordinator(240s), 0) << cluster.coordinator_log();

  const std::vector<json> rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 3u);
  for (const json& r : rounds) {
    ASSERT_TRUE(r.contains("federated")) << r.dump();
    const json& f = r["federated"];
    EXPECT_EQ(f["answered"], 3);
    EXPECT_EQ(f["num_samples"], 3 * 32);
    double weighted = 0;
    for (const json& c : f["clients"]) {
      EXPECT_EQ(c["status"], "ok");
      EXPECT_EQ(c["num_samples"], 32);
      int64_t total = 0, correct = 0;
      for (size_t k = 0; k < c["class_total"].size(); ++k) {
        total += c["class_total"][k].get<int64_t>();
        correct += c["class_correct"][k].get<int64_t>();
      }
      EXPECT_EQ(total, 32);
      EXPECT_NEAR(c["accuracy"].get<double>(), static_cast<double>(correct) / 32, 1e-12);
      weighted += c["accuracy"].get<double>() * 32;
    }
    EXPECT_NEAR(f["accuracy"].get<double>(), weighted / 96, 1e-12);
    EXPECT_TRUE(r["test_accuracy"].is_null());  // no central test set
  }
  // Separable data: the sites' own test files say the model learnt.
  EXPECT_GT(rounds.back()["federated"]["accuracy"].get<double>(), 0.6);
  EXPECT_NE(cluster.coordinator_log().find("fed acc"), std::string::npos);

  const json config = json::parse(read_text(cluster.run_dir() + "/config.json"));
  EXPECT_EQ(config["model"], "torchscript:" + sites.sha);
  EXPECT_EQ(config["model_file"], sites.archive);
  EXPECT_TRUE(fs::exists(cluster.run_dir() + "/model_final.pt"));
  EXPECT_TRUE(fs::exists(cluster.run_dir() + "/model_final.torchscript.pt"));
  EXPECT_TRUE(fs::exists(cluster.run_dir() + "/model_archive.pt"));
  // Normalisation from the sites' sums only, one value per channel.
  const json norm = json::parse(read_text(cluster.run_dir() + "/normalization.json"));
  EXPECT_EQ(norm["mean"].size(), 1u);
  EXPECT_GT(norm["std"][0].get<double>(), 0.0);
  EXPECT_EQ(norm["clients"], 3);
  // Every site reported its label counts, so the partition files describe the sites.
  EXPECT_TRUE(fs::exists(cluster.run_dir() + "/partition.csv"));
  // Each client logs the archive it runs, and how it came by it.
  EXPECT_NE(cluster.client("0-1").log().find(sites.sha + " (this client's own copy)"), std::string::npos);
  EXPECT_NE(cluster.client("2").log().find("accepted by --model-sha256"), std::string::npos)
      << cluster.client("2").log();
  // The state names are the module's attribute paths, as Python's state_dict() names them.
  const std::string final_archive = read_text(cluster.run_dir() + "/model_final.torchscript.pt");
  EXPECT_FALSE(final_archive.empty());
}

TEST(OwnDataTest, ARunIsReproducibleBySeed) {
  std::string shas[2];
  for (int i = 0; i < 2; ++i) {
    LocalCluster cluster("own-data-repro-" + std::to_string(i));
    const Sites sites = make_sites(cluster, 2);
    ASSERT_TRUE(cluster.start_coordinator(local_flags(sites, 2, 2, {"--federated-eval", "on"})));
    cluster.start_client("0-1", {"--local-data", "--data-dir", sites.root, "--model", "torchscript:" + sites.archive});
    ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
    shas[i] = cluster.rounds().back()["model_sha256"].get<std::string>();
  }
  EXPECT_EQ(shas[0], shas[1]);
}

TEST(OwnDataTest, RefusesDataThatDoesNotFitTheModelBeforeRoundOne) {
  LocalCluster cluster("own-data-shape");
  const Sites sites = make_sites(cluster, 1);
  write_site(cluster.dir() + "/small", 40, 8, 99, /*side=*/6);
  ASSERT_TRUE(cluster.start_coordinator(local_flags(sites, 2, 1, {"--registration-timeout", "30"})));
  auto& misfit = cluster.start_client("1", {"--local-data", "--data-dir", cluster.dir() + "/small", "--model",
                                            "torchscript:" + sites.archive, "--reconnect-timeout", "20"});
  EXPECT_EQ(misfit.wait_for(60s), 1) << misfit.log();
  EXPECT_NE(misfit.log().find("client 1's samples are 1x6x6, and the model takes 1x8x8"), std::string::npos)
      << misfit.log();
  EXPECT_EQ(cluster.rounds().size(), 0u);
}

// MOON contrasts representations: a model with only a forward is refused when the coordinator
// starts, by name, not in round 3; the same archive with features and classify starts.
TEST(OwnDataTest, MoonNeedsTheModelsFeaturesAndSaysSoAtStartUp) {
  LocalCluster cluster("own-data-moon");
  const Sites sites = make_sites(cluster, 1);
  const std::string bare = cluster.dir() + "/forward_only.pt";
  write_archive(bare, /*representation=*/false);
  std::vector<std::string> argv = {std::string(FLOTILLA_BIN_DIR) + "/flotilla-coordinator",
                                   "--bind",
                                   "tcp://127.0.0.1:*",
                                   "--out",
                                   cluster.dir() + "/moon-run",
                                   "--aggregator",
                                   "moon"};
  std::vector<std::string> flags = local_flags(sites, 1, 1);
  *std::next(std::find(flags.begin(), flags.end(), "--model")) = "torchscript:" + bare;
  argv.insert(argv.end(), flags.begin(), flags.end());
  ChildProcess refused(argv, cluster.dir() + "/moon.log");
  EXPECT_EQ(refused.wait_for(60s), 1) << refused.log();
  EXPECT_NE(refused.log().find("aggregator 'moon' needs the model's representation"), std::string::npos)
      << refused.log();
  EXPECT_NE(refused.log().find("features(x) and classify(z)"), std::string::npos) << refused.log();
  EXPECT_FALSE(fs::exists(cluster.dir() + "/moon-run/metrics.jsonl"));

  ASSERT_TRUE(cluster.start_coordinator(local_flags(sites, 1, 1, {"--aggregator", "moon"})));
  cluster.start_client(
      "0", {"--local-data", "--data-dir", sites.root + "/client_0", "--model", "torchscript:" + sites.archive});
  EXPECT_EQ(cluster.wait_coordinator(120s), 0) << cluster.coordinator_log();
  EXPECT_EQ(cluster.rounds().size(), 1u);
}

TEST(OwnDataTest, AShippedArchiveRunsOnlyWithTheSitesConsent) {
  LocalCluster cluster("own-data-consent");
  const Sites sites = make_sites(cluster, 1);
  ASSERT_TRUE(cluster.start_coordinator(local_flags(sites, 1, 1, {"--registration-timeout", "40"})));
  const std::string data = sites.root + "/client_0";
  auto& unasked = cluster.start_client("0", {"--local-data", "--data-dir", data}, "unasked");
  EXPECT_EQ(unasked.wait_for(60s), 1) << unasked.log();
  EXPECT_NE(unasked.log().find("Accept it with --model-sha256 " + sites.sha), std::string::npos) << unasked.log();
  auto& pinned_elsewhere =
      cluster.start_client("0", {"--local-data", "--data-dir", data, "--model-sha256", std::string(64, 'e')}, "other");
  EXPECT_EQ(pinned_elsewhere.wait_for(60s), 1) << pinned_elsewhere.log();
  EXPECT_NE(pinned_elsewhere.log().find("refusing to run another archive"), std::string::npos)
      << pinned_elsewhere.log();
  auto& trusting = cluster.start_client("0", {"--local-data", "--data-dir", data, "--trust-coordinator-model"}, "ok");
  EXPECT_EQ(cluster.wait_coordinator(120s), 0) << cluster.coordinator_log();
  EXPECT_NE(trusting.log().find("accepted by --trust-coordinator-model"), std::string::npos) << trusting.log();
}

// A site that withholds its label counts: no per-class rows leave it, and partition.csv is not
// written; with CURVE keys, a central test set and the evaluation on held-out slices (no test
// files), the run completes.
TEST(OwnDataTest, WithheldCountsKeysCentralTestSetAndHeldOutEvaluation) {
  LocalCluster cluster("own-data-keys");
  const Sites sites = make_sites(cluster, 2, /*with_tests=*/false);
  write_site(cluster.dir() + "/central", 64, 0, 77);
  fs::rename(cluster.dir() + "/central/train.pt", cluster.dir() + "/central.pt");
  const ClusterKeys keys = make_keys(cluster, {"site-0", "site-1"});
  ASSERT_TRUE(keys.ok);
  ASSERT_TRUE(cluster.start_coordinator({"--dataset",
                                         "local",
                                         "--clients",
                                         "2",
                                         "--rounds",
                                         "2",
                                         "--model",
                                         "torchscript:" + sites.archive,
                                         "--test-data",
                                         cluster.dir() + "/central.pt",
                                         "--federated-eval",
                                         "on",
                                         "--holdout-fraction",
                                         "0.25",
                                         "--epochs",
                                         "1",
                                         "--batch-size",
                                         "16",
                                         "--lr",
                                         "0.05",
                                         "--seed",
                                         "7",
                                         "--threads",
                                         "1",
                                         "--curve-secret-key",
                                         keys.coordinator_secret(),
                                         "--allowlist",
                                         keys.allowlist}));
  for (int k = 0; k < 2; ++k) {
    std::vector<std::string> flags = keys.client_flags("site-" + std::to_string(k));
    flags.insert(flags.end(), {"--local-data", "--data-dir", sites.root + "/client_" + std::to_string(k),
                               "--trust-coordinator-model", "--withhold-label-counts"});
    cluster.start_client(std::to_string(k), flags);
  }
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const std::vector<json> rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 2u);
  for (const json& r : rounds) {
    EXPECT_FALSE(r["test_accuracy"].is_null());  // the central test set
    const json& f = r["federated"];
    EXPECT_EQ(f["answered"], 2);
    for (const json& c : f["clients"]) {
      EXPECT_FALSE(c.contains("class_total"));
      EXPECT_EQ(c["num_samples"], (96 + 16 * c["client_id"].get<int>()) / 4);  // the held-out quarter
    }
  }
  EXPECT_FALSE(fs::exists(cluster.run_dir() + "/partition.csv"));
}

// Asynchronous training on the sites' own data: each evaluated version is evaluated by the
// clients too, while training tasks stay in flight.
TEST(OwnDataTest, AsynchronousTrainingEvaluatesFederatedly) {
  LocalCluster cluster("own-data-async");
  const Sites sites = make_sites(cluster, 3);
  ASSERT_TRUE(cluster.start_coordinator(local_flags(sites, 3, 4,
                                                    {"--mode", "async", "--async-opt", "mode=fedbuff", "--async-opt",
                                                     "buffer_size=2", "--concurrency", "3", "--eval-every", "2"})));
  cluster.start_client("0-2", {"--local-data", "--data-dir", sites.root, "--model", "torchscript:" + sites.archive});
  ASSERT_EQ(cluster.wait_coordinator(240s), 0) << cluster.coordinator_log();
  const std::vector<json> rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 4u);
  for (const json& r : rounds) {
    const bool evaluated = r["round"].get<int>() % 2 == 0;
    ASSERT_EQ(r.contains("federated"), evaluated) << r.dump();
    if (evaluated) {
      EXPECT_EQ(r["federated"]["answered"], 3) << r["federated"].dump();
    }
  }
}

// A coordinator killed after round 1 resumes from its run directory: the sites register again,
// the normalisation computed from their sums is read back rather than recomputed, and the run ends
// with the model the uninterrupted run ends with.
TEST(OwnDataTest, AResumedRunKeepsItsNormalisationAndEndsAsTheUninterruptedOne) {
  // One process hosting both sites' clients, which outlives the coordinator's restart.
  auto sites_client_flags = [](const Sites& sites) {
    return std::vector<std::string>{"--local-data",
                                    "--data-dir",
                                    sites.root,
                                    "--model",
                                    "torchscript:" + sites.archive,
                                    "--peer-timeout",
                                    "3",
                                    "--heartbeat-interval",
                                    "0.5",
                                    "--reconnect-timeout",
                                    "90"};
  };
  const std::vector<std::string> more = {"--normalize",          "federated", "--peer-timeout", "3",
                                         "--heartbeat-interval", "0.5"};
  std::string reference;
  {
    LocalCluster cluster("own-data-resume-ref");
    const Sites sites = make_sites(cluster, 2);
    ASSERT_TRUE(cluster.start_coordinator(local_flags(sites, 2, 3, more)));
    cluster.start_client("0-1", sites_client_flags(sites));
    ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
    reference = cluster.rounds().back()["model_sha256"].get<std::string>();
  }
  LocalCluster cluster("own-data-resume");
  const Sites sites = make_sites(cluster, 2);
  ASSERT_TRUE(cluster.start_coordinator(local_flags(sites, 2, 3, more)));
  cluster.start_client("0-1", sites_client_flags(sites));
  ASSERT_GE(cluster.wait_for_rounds(1, 120s), 1u);
  const std::string norm = read_text(cluster.run_dir() + "/normalization.json");
  ::kill(cluster.coordinator().pid(), SIGKILL);
  cluster.coordinator().wait_for(10s);
  // The archive file moves away: the run directory's copy serves.
  fs::rename(sites.archive, sites.archive + ".moved");
  ASSERT_TRUE(cluster.start_coordinator({"--resume", cluster.run_dir()}));
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  EXPECT_EQ(read_text(cluster.run_dir() + "/normalization.json"), norm);
  EXPECT_EQ(cluster.rounds().back()["model_sha256"].get<std::string>(), reference);
}

// flotilla-run --resume starts its clients on the run's own --data-dir (issue 22): a run whose
// sites lie outside the default place goes on, here extended by a round, without --data-dir given
// again. Before, every client of the resumed run looked for its data in the default folder.
TEST(OwnDataTest, FlotillaRunResumesOnTheRunsOwnDataDir) {
  LocalCluster cluster("own-data-run-resume");
  const Sites sites = make_sites(cluster, 2);
  const std::string run_dir = cluster.dir() + "/run";
  std::vector<std::string> argv = {
      testing::kBinDir + "/flotilla-run", "--processes", "1", "--data-dir", sites.root, "--out", run_dir};
  const auto flags = local_flags(sites, 2, 2);
  argv.insert(argv.end(), flags.begin(), flags.end());
  ChildProcess first(argv, cluster.dir() + "/first.log");
  ASSERT_EQ(first.wait_for(180s), 0) << first.log();
  ASSERT_EQ(flotilla::testing::read_jsonl(run_dir + "/metrics.jsonl").size(), 2u);

  ChildProcess resumed({testing::kBinDir + "/flotilla-run", "--resume", run_dir, "--rounds", "3"},
                       cluster.dir() + "/resumed.log");
  ASSERT_EQ(resumed.wait_for(180s), 0) << resumed.log();
  const auto rounds = flotilla::testing::read_jsonl(run_dir + "/metrics.jsonl");
  ASSERT_EQ(rounds.size(), 3u) << resumed.log();
  EXPECT_EQ(rounds.back()["round"], 3);
  EXPECT_EQ(rounds.back()["status"], "ok");
}

}  // namespace
}  // namespace flotilla
