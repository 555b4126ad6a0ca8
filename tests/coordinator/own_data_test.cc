#include "coordinator/own_data.h"

#include <gtest/gtest.h>

#include <cmath>

#include "coordinator/federated_evaluation.h"

namespace flotilla {
namespace {

Experiment local_experiment() {
  Experiment e;
  e.dataset = std::string(kLocalDataset);
  e.model = "mlp";
  e.num_clients = 3;
  e.sample_shape = {2, 1, 1};
  e.num_classes = 3;
  return e;
}

// A client whose two channels hold `values` (each sample's pixel of channel c is values[c][i]).
msg::DataReport report(int id, const std::vector<std::vector<double>>& values, std::vector<int64_t> counts) {
  msg::DataReport r;
  r.client_id = id;
  r.train_samples = static_cast<int64_t>(values[0].size());
  r.sample_shape = {2, 1, 1};
  r.dtype = "float32";
  r.num_classes = 3;
  r.label_counts = std::move(counts);
  for (const auto& channel : values) {
    double sum = 0, sum_sq = 0;
    for (double v : channel) {
      sum += v;
      sum_sq += v * v;
    }
    r.input_sum.push_back(sum);
    r.input_sum_sq.push_back(sum_sq);
  }
  r.input_count = r.train_samples;
  return r;
}

msg::Register registration(std::vector<msg::DataReport> reports) {
  msg::Register reg;
  for (const auto& r : reports) reg.client_ids.push_back(r.client_id);
  reg.data = std::move(reports);
  return reg;
}

TEST(OwnDataTest, RefusesDataThatDoesNotFitTheModelNamingBothShapes) {
  const Experiment e = local_experiment();
  std::vector<std::vector<int64_t>> counts(3);
  std::vector<int64_t> samples(3, 0);
  OwnData own(e, &counts, &samples);
  msg::DataReport wide = report(0, {{1, 2}, {3, 4}}, {1, 1, 0});
  wide.sample_shape = {3, 1, 1};
  Status s = own.check(registration({wide}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("client 0's samples are 3x1x1, and the model takes 2x1x1"), std::string::npos) << s;
  msg::DataReport many = report(1, {{1, 2}, {3, 4}}, {});
  many.num_classes = 5;
  s = own.check(registration({many}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("client 1 has labels up to 4, and the model has 3 classes"), std::string::npos) << s;
  msg::Register none;
  none.client_ids = {2};
  s = own.check(none);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("start it with --local-data"), std::string::npos) << s;
  EXPECT_EQ(own.reported_clients(), 0);
  for (const auto& c : counts) EXPECT_TRUE(c.empty());
}

TEST(OwnDataTest, APublicRunRefusesAClientWithItsOwnData) {
  Experiment e = local_experiment();
  e.dataset = "mnist";
  std::vector<std::vector<int64_t>> counts(3);
  std::vector<int64_t> samples(3, 0);
  OwnData own(e, &counts, &samples);
  msg::Register plain;
  plain.client_ids = {0};
  EXPECT_TRUE(own.check(plain).ok());
  const Status s = own.check(registration({report(0, {{1}, {2}}, {1, 0, 0})}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("partitions the public data set 'mnist'"), std::string::npos) << s;
}

TEST(OwnDataTest, NormalisationFromSumsEqualsThePooledStatistics) {
  const Experiment e = local_experiment();
  std::vector<std::vector<int64_t>> counts(3);
  std::vector<int64_t> samples(3, 0);
  OwnData own(e, &counts, &samples);
  const std::vector<std::vector<double>> a = {{0.0, 1.0, 2.0}, {5.0, 5.0, 5.0}};
  const std::vector<std::vector<double>> b = {{4.0}, {5.0}};
  EXPECT_FALSE(own.normalisation().ok());
  ASSERT_TRUE(own.check(registration({report(0, a, {1, 1, 1}), report(2, b, {})})).ok());
  auto ms = own.normalisation();
  ASSERT_TRUE(ms.ok()) << ms.status();
  // Channel 0 pooled: 0, 1, 2, 4 -> mean 1.75, population variance 2.1875.
  EXPECT_NEAR(ms->first[0], 1.75, 1e-12);
  EXPECT_NEAR(ms->second[0], std::sqrt(2.1875), 1e-12);
  // Channel 1 is constant: its std becomes 1, so that normalising does not divide by zero.
  EXPECT_NEAR(ms->first[1], 5.0, 1e-12);
  EXPECT_EQ(ms->second[1], 1.0);
  EXPECT_EQ(counts[0], (std::vector<int64_t>{1, 1, 1}));
  EXPECT_TRUE(counts[2].empty());  // withheld
  EXPECT_EQ(samples, (std::vector<int64_t>{3, 0, 1}));
  EXPECT_FALSE(own.all_label_counts_known());
  ASSERT_TRUE(own.check(registration({report(1, b, {0, 1, 0}), report(2, b, {1, 0, 0})})).ok());
  EXPECT_TRUE(own.all_label_counts_known());
  EXPECT_EQ(own.reported_clients(), 3);
}

TEST(FederatedEvaluationTest, MeansAreWeightedBySamplesOfAnsweringClientsOnly) {
  FederatedEvalMetrics m;
  ClientEvalMetrics a, b, lost;
  a.client_id = 0;
  a.num_samples = 10;
  a.loss = 1.0;
  a.accuracy = 0.5;
  b.client_id = 1;
  b.num_samples = 30;
  b.loss = 2.0;
  b.accuracy = 0.9;
  lost.client_id = 2;
  lost.status = "lost: connection closed";
  lost.num_samples = 0;
  m.clients = {a, b, lost};
  summarise_federated_eval(m);
  EXPECT_EQ(m.answered, 2);
  EXPECT_EQ(m.num_samples, 40);
  EXPECT_NEAR(m.loss, (10 * 1.0 + 30 * 2.0) / 40, 1e-12);
  EXPECT_NEAR(m.accuracy, (10 * 0.5 + 30 * 0.9) / 40, 1e-12);
}

}  // namespace
}  // namespace flotilla
