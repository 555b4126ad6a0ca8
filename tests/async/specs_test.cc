// Staleness functions, the delay model and AsyncOptions: values, reproducibility, canonical specs,
// and errors that name the problem.
#include <gtest/gtest.h>

#include <cmath>

#include "async/async_options.h"
#include "async/delay_model.h"
#include "async/staleness.h"

namespace flotilla {
namespace {

Staleness staleness(const std::string& spec) {
  auto s = Staleness::parse(spec);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Staleness();
}

DelayModel delay(const std::string& spec) {
  auto d = DelayModel::parse(spec);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? *d : DelayModel();
}

void expect_spec_error(const Status& s, const std::string& fragment) {
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find(fragment), std::string::npos) << "'" << s.message() << "' lacks '" << fragment << "'";
}

TEST(StalenessTest, ValuesAtChosenTau) {
  const Staleness constant = staleness("constant");
  EXPECT_EQ(constant.weight(0), 1.0);
  EXPECT_EQ(constant.weight(100), 1.0);

  const Staleness poly = staleness("polynomial:a=0.5");  // (tau + 1)^-0.5
  EXPECT_EQ(poly.weight(0), 1.0);
  EXPECT_DOUBLE_EQ(poly.weight(3), 0.5);  // 4^-0.5
  EXPECT_DOUBLE_EQ(poly.weight(8), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(staleness("polynomial:a=1").weight(4), 0.2);

  const Staleness hinge = staleness("hinge:a=10,b=4");  // 1 up to tau = 4, then 1 / (10 (tau - 4) + 1)
  EXPECT_EQ(hinge.weight(0), 1.0);
  EXPECT_EQ(hinge.weight(4), 1.0);
  EXPECT_DOUBLE_EQ(hinge.weight(5), 1.0 / 11.0);
  EXPECT_DOUBLE_EQ(hinge.weight(7), 1.0 / 31.0);
}

TEST(StalenessTest, DefaultsAndCanonicalSpecs) {
  EXPECT_EQ(staleness("polynomial").to_string(), "polynomial:a=0.5");
  EXPECT_EQ(staleness("hinge").to_string(), "hinge:a=10,b=4");
  EXPECT_EQ(staleness("hinge:b=2.5,a=3").to_string(), "hinge:a=3,b=2.5");
  EXPECT_EQ(staleness("constant").to_string(), "constant");
  for (const char* spec : {"constant", "polynomial:a=0.25", "hinge:a=0.1,b=7"})
    EXPECT_EQ(staleness(staleness(spec).to_string()).to_string(), spec);
}

TEST(StalenessTest, BadSpecsNameTheProblem) {
  expect_spec_error(Staleness::parse("exponential").status(), "unknown kind 'exponential'");
  expect_spec_error(Staleness::parse("polynomial:a=-1").status(), "a must be >= 0");
  expect_spec_error(Staleness::parse("hinge:a=10,b=-4").status(), "b must be >= 0");
  expect_spec_error(Staleness::parse("hinge:a=ten").status(), "a='ten' is not a finite number");
  expect_spec_error(Staleness::parse("polynomial:a=nan").status(), "not a finite number");
  expect_spec_error(Staleness::parse("polynomial:alpha=1").status(), "unknown parameter(s) for 'polynomial': alpha");
  expect_spec_error(Staleness::parse("hinge:a=1,a=2").status(), "given twice");
  expect_spec_error(Staleness::parse("").status(), "no kind");
  expect_spec_error(Staleness::parse("hinge:a").status(), "not key=value");
  EXPECT_NE(Staleness::parse("hinge:a=x").status().message().find("staleness"), std::string::npos);
}

TEST(DelayModelTest, ReproducibleBySeedAndIndependentOfCallOrder) {
  const DelayModel m = delay("gaussian:mean=1,std=0.5,per=batch");
  const double a = m.sample(7, 3, 2, 5);
  (void)m.sample(7, 4, 0, 0);  // other draws in between do not matter: no hidden state
  EXPECT_EQ(m.sample(7, 3, 2, 5), a);
  EXPECT_EQ(delay(m.to_string()).sample(7, 3, 2, 5), a);
  EXPECT_NE(m.sample(8, 3, 2, 5), a);  // another seed, another draw
  EXPECT_NE(m.sample(7, 3, 2, 6), a);  // another batch
  EXPECT_NE(m.sample(7, 3, 3, 5), a);  // another update
  EXPECT_NE(m.sample(7, 2, 2, 5), a);  // another client
  // Per batch, a task's delay is the sum of its batches' draws.
  EXPECT_DOUBLE_EQ(m.task_delay(7, 3, 2, 3), m.sample(7, 3, 2, 0) + m.sample(7, 3, 2, 1) + m.sample(7, 3, 2, 2));
  // Per update, one draw whatever the batch.
  const DelayModel per_update = delay("gaussian:mean=1,std=0.5");
  EXPECT_EQ(per_update.sample(7, 3, 2, 0), per_update.sample(7, 3, 2, 9));
  EXPECT_EQ(per_update.task_delay(7, 3, 2, 50), per_update.sample(7, 3, 2, 0));
}

TEST(DelayModelTest, GaussianIsTruncatedAtZeroAndHasItsMoments) {
  const DelayModel m = delay("gaussian:mean=0.1,std=1,per=batch");  // most draws would be negative untruncated
  double sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double x = m.sample(1, i % 10, i / 10, 0);
    ASSERT_GE(x, 0.0);
    sum += x;
  }
  // E[X | X >= 0] for N(0.1, 1): 0.1 + phi(0.1) / Phi(0.1) = 0.1 + 0.39695 / 0.53983 = 0.8353.
  EXPECT_NEAR(sum / n, 0.8353, 0.03);

  const DelayModel wide = delay("gaussian:mean=5,std=1");
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = wide.sample(2, i, 0, 0);
    s += x;
    s2 += x * x;
  }
  EXPECT_NEAR(s / n, 5.0, 0.05);
  EXPECT_NEAR(std::sqrt(s2 / n - (s / n) * (s / n)), 1.0, 0.05);
}

TEST(DelayModelTest, SlowClientsAreSlowerByTheFactor) {
  const DelayModel plain = delay("gaussian:mean=2,std=1,per=batch");
  const DelayModel slowed = delay("gaussian:mean=2,std=1,per=batch;slow=3,7:factor=5");
  EXPECT_EQ(slowed.slowdown(3), 5.0);
  EXPECT_EQ(slowed.slowdown(7), 5.0);
  EXPECT_EQ(slowed.slowdown(4), 1.0);
  for (int64_t u = 0; u < 5; ++u) {
    EXPECT_DOUBLE_EQ(slowed.sample(9, 3, u, 1), 5.0 * plain.sample(9, 3, u, 1));
    EXPECT_DOUBLE_EQ(slowed.task_delay(9, 7, u, 4), 5.0 * plain.task_delay(9, 7, u, 4));
    EXPECT_EQ(slowed.sample(9, 4, u, 1), plain.sample(9, 4, u, 1));
  }
  EXPECT_EQ(delay("constant:value=0.5").sample(0, 1, 0, 0), 0.5);
}

TEST(DelayModelTest, CanonicalSpecs) {
  EXPECT_EQ(DelayModel().to_string(), "constant:value=0,per=update");
  EXPECT_EQ(delay("gaussian:std=0.2,mean=1").to_string(), "gaussian:mean=1,std=0.2,per=update");
  EXPECT_EQ(delay("constant:value=3,per=batch;slow=9,3,4-5:factor=2.5").to_string(),
            "constant:value=3,per=batch;slow=3-5,9:factor=2.5");
  const std::string s = "gaussian:mean=0.5,std=0.2,per=batch;slow=3,7:factor=5";
  EXPECT_EQ(delay(s).to_string(), s);
}

TEST(DelayModelTest, BadSpecsNameTheProblem) {
  expect_spec_error(DelayModel::parse("uniform:a=1").status(), "unknown distribution 'uniform'");
  expect_spec_error(DelayModel::parse("gaussian:mean=1,std=-1").status(), "std must be >= 0");
  expect_spec_error(DelayModel::parse("gaussian:mean=-1,std=1").status(), "mean must be >= 0");
  expect_spec_error(DelayModel::parse("constant:value=-2").status(), "value must be >= 0");
  expect_spec_error(DelayModel::parse("constant:value=1,per=epoch").status(), "per='epoch' must be update or batch");
  expect_spec_error(DelayModel::parse("constant:mean=1").status(), "unknown parameter(s) for 'constant': mean");
  expect_spec_error(DelayModel::parse("constant;fast=3:factor=2").status(), "is not slow=<client ids>:factor=<f>");
  expect_spec_error(DelayModel::parse("constant;slow=3,x:factor=2").status(), "'x' is not an id");
  expect_spec_error(DelayModel::parse("constant;slow=3:factor=0.5").status(), "factor must be >= 1");
  expect_spec_error(DelayModel::parse("constant;slow=3:speed=2").status(), "unknown parameter(s)");
}

TEST(AsyncOptionsTest, DefaultsAreValidAndRoundTrip) {
  auto config = AsyncConfig::create(AsyncOptions{});
  ASSERT_TRUE(config.ok()) << config.status();
  const auto map = config->to_map();
  EXPECT_EQ(map.at("mode"), "fedbuff");
  EXPECT_EQ(map.at("staleness"), "constant");
  EXPECT_EQ(map.at("alpha"), "0.6");
  auto again = async_config_from_options(Options(map));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->to_map(), map);
  auto fedasync = async_config_from_options(Options{{"mode", "fedasync"}, {"staleness", "hinge"}});
  ASSERT_TRUE(fedasync.ok()) << fedasync.status();
  EXPECT_EQ(fedasync->options.mode, AsyncMode::kFedAsync);
  EXPECT_EQ(fedasync->options.staleness, "hinge:a=10,b=4");  // canonical
}

TEST(AsyncOptionsTest, BadValuesNameTheOption) {
  auto with = [](auto edit) {
    AsyncOptions o;
    edit(o);
    return AsyncConfig::create(o).status();
  };
  expect_spec_error(with([](AsyncOptions& o) { o.concurrency = 0; }), "concurrency must be >= 1");
  expect_spec_error(with([](AsyncOptions& o) { o.buffer_size = 0; }), "buffer_size must be >= 1");
  expect_spec_error(with([](AsyncOptions& o) { o.alpha = 0; }), "alpha must be in (0, 1]");
  expect_spec_error(with([](AsyncOptions& o) { o.alpha = 1.5; }), "alpha must be in (0, 1]");
  expect_spec_error(with([](AsyncOptions& o) { o.server_lr = -1; }), "server_lr must be finite and > 0");
  expect_spec_error(with([](AsyncOptions& o) { o.dc_lambda = -0.1; }), "dc_lambda must be finite and >= 0");
  expect_spec_error(with([](AsyncOptions& o) { o.dc_client_lr = 0; }), "dc_client_lr");
  expect_spec_error(with([](AsyncOptions& o) { o.step_cost = NAN; }), "step_cost");
  expect_spec_error(with([](AsyncOptions& o) { o.staleness = "linear"; }), "async option staleness");
  expect_spec_error(with([](AsyncOptions& o) { o.delay = "gaussian:std=-1"; }), "async option delay");
  expect_spec_error(async_config_from_options(Options{{"mode", "fedsync"}}).status(),
                    "mode must be fedasync or fedbuff");
  expect_spec_error(async_config_from_options(Options{{"clock", "wall"}}).status(), "clock must be virtual or real");
  EXPECT_FALSE(async_config_from_options(Options{{"buffer", "3"}}).ok());  // unknown key
}

}  // namespace
}  // namespace flotilla
