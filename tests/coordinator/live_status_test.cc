#include "coordinator/live_status.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace flotilla {
namespace {

using json = nlohmann::json;
using Clock = LiveStatus::Clock;
using namespace std::chrono_literals;

// A clock the test moves by hand.
struct FakeClock {
  Clock::time_point now = Clock::time_point(1000s);
  std::function<Clock::time_point()> fn() {
    return [this] { return now; };
  }
};

RunInfo four_clients(int rounds = 10) {
  RunInfo info;
  info.run_dir = "runs/x";
  info.aggregator = "fedavg";
  info.dataset = "synthetic";
  info.model = "mlp";
  info.rounds = rounds;
  info.num_clients = 4;
  info.upload_memory_bytes = 1000;
  return info;
}

json client(const json& state, int id) { return state["clients"][static_cast<size_t>(id)]; }
std::string state_of(const LiveStatus& live, int id) {
  return client(json::parse(live.state_json()), id)["state"].get<std::string>();
}

ClientRoundMetrics row(int id, const std::string& status, int64_t samples = 0, double loss = 0) {
  ClientRoundMetrics c;
  c.client_id = id;
  c.status = status;
  c.num_samples = samples;
  c.train_loss = loss;
  c.bytes_sent = 100;
  c.bytes_received = status == "ok" ? 80 : 0;
  return c;
}

RoundMetrics round_of(int round, std::vector<ClientRoundMetrics> clients, double seconds = 1.0) {
  RoundMetrics m;
  m.round = round;
  for (const auto& c : clients) {
    m.sampled.push_back(c.client_id);
    if (c.status == "ok") ++m.answered;
  }
  m.clients = std::move(clients);
  m.wire_bytes_sent = 300;
  m.bytes_received = 160;
  m.round_seconds = seconds;
  m.mean_divergence = 0.5;
  m.max_divergence = 0.9;
  return m;
}

TEST(LiveStatusTest, EventsMoveClientsThroughTheirStates) {
  FakeClock clock;
  LiveStatus live(clock.fn());
  live.on_run_started(four_clients());
  json s = json::parse(live.state_json());
  EXPECT_EQ(s["run"]["status"], "waiting");
  EXPECT_EQ(s["round"]["number"], 1);
  ASSERT_EQ(s["clients"].size(), 4u);
  EXPECT_EQ(s["counts"]["states"]["unregistered"], 4);

  live.on_clients_registered({0, 1, 2}, "host-a pid 7 (cpu)");
  s = json::parse(live.state_json());
  EXPECT_EQ(client(s, 0)["state"], "idle");
  EXPECT_EQ(client(s, 0)["process"], "host-a pid 7 (cpu)");
  EXPECT_EQ(client(s, 3)["state"], "unregistered");
  EXPECT_EQ(s["counts"]["alive"], 3);

  live.on_tasks_prepared(1, {0, 1, 2});
  EXPECT_EQ(state_of(live, 0), "sampled");
  live.on_tasks_sent(1, {0, 1, 2});
  s = json::parse(live.state_json());
  EXPECT_EQ(s["run"]["status"], "training");
  EXPECT_EQ(s["round"]["sampled"], 3);
  EXPECT_EQ(client(s, 1)["state"], "training");

  live.on_upload_offered(0);
  EXPECT_EQ(state_of(live, 0), "offered");
  live.on_upload_granted(0);
  EXPECT_EQ(state_of(live, 0), "uploading");
  clock.now += 2s;
  live.on_update_received(0, 80);
  live.on_client_error(1, "out of memory");
  live.on_clients_lost({2}, "connection closed");
  clock.now += 3s;
  s = json::parse(live.state_json());
  EXPECT_EQ(client(s, 0)["state"], "done");
  EXPECT_DOUBLE_EQ(client(s, 0)["state_seconds"].get<double>(), 3.0);
  EXPECT_EQ(s["round"]["done"], 1);
  EXPECT_EQ(client(s, 1)["state"], "error");
  EXPECT_EQ(client(s, 1)["note"], "out of memory");
  EXPECT_EQ(client(s, 2)["state"], "lost");
  EXPECT_EQ(client(s, 2)["note"], "connection closed");
  EXPECT_EQ(s["counts"]["alive"], 2);
  EXPECT_EQ(s["counts"]["lost_total"], 1);
  EXPECT_DOUBLE_EQ(client(s, 0)["last_heard_seconds"].get<double>(), 5.0);
  live.on_heard_from({0, 1});
  EXPECT_DOUBLE_EQ(client(json::parse(live.state_json()), 0)["last_heard_seconds"].get<double>(), 0.0);

  live.on_evaluation_sent(1, {0});
  EXPECT_EQ(state_of(live, 0), "evaluating");
  live.on_evaluation_received(0);
  EXPECT_EQ(state_of(live, 0), "evaluated");
  live.on_run_finished(false, "round 2 failed");
  s = json::parse(live.state_json());
  EXPECT_EQ(s["run"]["status"], "failed");
  EXPECT_EQ(s["run"]["message"], "round 2 failed");
}

TEST(LiveStatusTest, ClosedRoundsSetEachClientsOutcomeAndFigures) {
  FakeClock clock;
  LiveStatus live(clock.fn());
  live.on_run_started(four_clients());
  live.on_clients_registered({0, 1, 2, 3}, "h pid 1 (cpu)");
  live.on_tasks_sent(1, {0, 1, 2, 3});
  live.on_update_received(0, 80);
  live.on_clients_lost({2}, "silent for more than 10 s");
  live.on_round_closed(round_of(1, {row(0, "ok", 50, 0.25), row(1, "timeout"),
                                    row(2, "lost: silent for more than 10 s"), row(3, "error: bad update")}));
  json s = json::parse(live.state_json());
  EXPECT_EQ(client(s, 0)["state"], "done");
  EXPECT_EQ(client(s, 0)["samples"], 50);
  EXPECT_DOUBLE_EQ(client(s, 0)["loss"].get<double>(), 0.25);
  EXPECT_EQ(client(s, 0)["bytes_sent"], 100);
  EXPECT_EQ(client(s, 0)["bytes_received_total"], 80);
  EXPECT_EQ(client(s, 0)["rounds_answered"], 1);
  EXPECT_EQ(client(s, 1)["state"], "timeout");
  EXPECT_EQ(client(s, 1)["loss"], nullptr) << "no answered round yet";
  EXPECT_EQ(client(s, 2)["state"], "lost");
  EXPECT_EQ(client(s, 3)["state"], "error");
  EXPECT_EQ(client(s, 3)["note"], "error: bad update");
  EXPECT_EQ(s["last_closed_round"], 1);
  EXPECT_EQ(s["round"]["number"], 2);

  // Closed, not yet evaluated: in the history with no accuracy, until it is committed.
  json r = json::parse(live.rounds_json(0));
  EXPECT_EQ(r["last_committed_round"], 0);
  ASSERT_EQ(r["rounds"].size(), 1u);
  EXPECT_EQ(r["rounds"][0]["committed"], false);
  EXPECT_EQ(r["rounds"][0]["test_accuracy"], nullptr);
  EXPECT_EQ(r["rounds"][0]["client_statuses"]["timeout"], 1);
  EXPECT_EQ(r["rounds"][0]["client_statuses"]["lost"], 1);
  RoundMetrics committed = round_of(1, {row(0, "ok", 50, 0.25)});
  committed.test_accuracy = 0.75;
  committed.test_loss = 0.5;
  committed.policy["epsilon"] = 1.5;
  committed.federated = FederatedEvalMetrics{};
  committed.federated->answered = 1;
  committed.federated->accuracy = 0.7;
  committed.federated->clients.push_back({0, "ok", 20, 0.4, 0.7, {}, {}, 10});
  live.on_round_committed(committed);
  r = json::parse(live.rounds_json(0));
  ASSERT_EQ(r["rounds"].size(), 1u);
  EXPECT_EQ(r["rounds"][0]["committed"], true);
  EXPECT_DOUBLE_EQ(r["rounds"][0]["test_accuracy"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(r["rounds"][0]["policy"]["epsilon"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(r["rounds"][0]["federated"]["clients"][0]["accuracy"].get<double>(), 0.7);
  EXPECT_EQ(json::parse(live.rounds_json(1))["rounds"].size(), 0u) << "since=1: nothing after round 1";
  s = json::parse(live.state_json());
  EXPECT_DOUBLE_EQ(s["latest"]["test_accuracy"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(s["latest"]["epsilon"].get<double>(), 1.5);
  EXPECT_EQ(s["rounds_completed"], 1);

  // A round not evaluated (--eval-every) keeps the last known accuracy.
  RoundMetrics skipped = round_of(2, {row(0, "ok", 50, 0.2)});
  skipped.test_accuracy = skipped.test_loss = std::numeric_limits<double>::quiet_NaN();
  live.on_round_closed(skipped);
  live.on_round_committed(skipped);
  r = json::parse(live.rounds_json(1));
  ASSERT_EQ(r["rounds"].size(), 1u);
  EXPECT_EQ(r["rounds"][0]["test_accuracy"], nullptr);
  EXPECT_DOUBLE_EQ(json::parse(live.state_json())["latest"]["test_accuracy"].get<double>(), 0.75);
}

TEST(LiveStatusTest, ANewRoundShowsClientsWithoutATaskAsIdle) {
  FakeClock clock;
  LiveStatus live(clock.fn());
  live.on_run_started(four_clients());
  live.on_clients_registered({0, 1, 2, 3}, "h");
  live.on_clients_lost({3}, "connection closed");
  live.on_tasks_sent(1, {0, 1});
  live.on_update_received(0, 1);
  live.on_update_received(1, 1);
  live.on_round_closed(round_of(1, {row(0, "ok"), row(1, "ok")}));
  live.on_tasks_sent(2, {1, 2});
  const json s = json::parse(live.state_json());
  EXPECT_EQ(client(s, 0)["state"], "idle");
  EXPECT_EQ(client(s, 1)["state"], "training");
  EXPECT_EQ(client(s, 2)["state"], "training");
  EXPECT_EQ(client(s, 3)["state"], "lost") << "lost stays lost until its process registers again";
  EXPECT_EQ(s["round"]["sampled"], 2);
}

TEST(LiveStatusTest, AsynchronousTrainingCountsEveryTaskInFlight) {
  LiveStatus live;
  RunInfo info = four_clients();
  info.mode = "async";
  live.on_run_started(info);
  live.on_clients_registered({0, 1, 2, 3}, "h");
  // Each task names the version its model will become: they differ while they overlap.
  live.on_tasks_sent(1, {0});
  live.on_tasks_sent(1, {1});
  live.on_update_received(0, 1);
  live.on_round_closed(round_of(1, {row(0, "ok")}));
  live.on_tasks_sent(2, {2});
  live.on_upload_offered(1);
  const json s = json::parse(live.state_json());
  EXPECT_EQ(s["round"]["number"], 2);
  EXPECT_EQ(s["round"]["sampled"], 2) << "1 (offered) and 2 (training)";
  EXPECT_EQ(client(s, 0)["state"], "idle");
  EXPECT_EQ(client(s, 1)["state"], "offered");
}

TEST(LiveStatusTest, EstimatesTheTimeLeftFromTheRoundsSoFar) {
  FakeClock clock;
  LiveStatus live(clock.fn());
  live.on_run_started(four_clients(10));
  live.on_clients_registered({0, 1, 2, 3}, "h");
  EXPECT_EQ(json::parse(live.state_json())["estimate"]["left_seconds"], nullptr) << "no round yet";
  live.on_tasks_sent(1, {0});
  clock.now += 8s;
  live.on_round_closed(round_of(1, {row(0, "ok")}, 8.0));
  // One round: its own time is all there is: 9 rounds of 8 s.
  EXPECT_DOUBLE_EQ(json::parse(live.state_json())["estimate"]["left_seconds"].get<double>(), 72.0);
  for (int r = 2; r <= 3; ++r) {
    live.on_tasks_sent(r, {0});
    clock.now += 10s;
    live.on_round_closed(round_of(r, {row(0, "ok")}, 9.0));
  }
  // Closes 10 s apart; 7 rounds left, 4 s into the next one.
  live.on_tasks_sent(4, {0});
  clock.now += 4s;
  json s = json::parse(live.state_json());
  EXPECT_DOUBLE_EQ(s["estimate"]["mean_round_seconds"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(s["estimate"]["left_seconds"].get<double>(), 66.0);
  live.on_run_finished(true, "");
  EXPECT_DOUBLE_EQ(json::parse(live.state_json())["estimate"]["left_seconds"].get<double>(), 0.0);
}

TEST(LiveStatusTest, IgnoresIdsOutsideTheRunAndEventsBeforeItStarts) {
  LiveStatus live;
  live.on_clients_registered({0}, "h");  // before the run started: no rows yet
  live.on_run_started(four_clients());
  live.on_clients_registered({-1, 4, 99}, "h");
  live.on_tasks_sent(1, {7});
  live.on_update_received(12, 1);
  live.on_round_closed(round_of(1, {row(9, "ok")}));
  const json s = json::parse(live.state_json());
  EXPECT_EQ(s["counts"]["alive"], 0);
  EXPECT_EQ(s["counts"]["states"]["unregistered"], 4);
}

TEST(LiveStatusTest, ProcessNamesThatAreNotUtf8DoNotBreakTheJson) {
  LiveStatus live;
  live.on_run_started(four_clients());
  live.on_clients_registered({0}, std::string("host\xff\xfe pid 1 \"<b>\""));
  const json s = json::parse(live.state_json());
  EXPECT_NE(client(s, 0)["process"].get<std::string>().find("<b>"), std::string::npos);
}

// The exposition format, line by line: # HELP and # TYPE before each family's samples, names and
// label sets well formed, values that parse as floats.
struct Family {
  std::string type;
  bool help = false;
  std::vector<std::pair<std::string, double>> samples;  // (labels, value)
};

std::map<std::string, Family> parse_exposition(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*)\})? (\S+))");
  std::map<std::string, Family> families;
  std::istringstream in(text);
  std::string line;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      EXPECT_FALSE(families[m[1]].help) << "two HELP lines for " << m[1];
      families[m[1]].help = true;
    } else if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(families[m[1]].help) << "TYPE before HELP for " << m[1];
      EXPECT_TRUE(families[m[1]].samples.empty()) << "TYPE after samples of " << m[1];
      families[m[1]].type = m[2];
    } else if (std::regex_match(line, m, sample)) {
      std::string name = m[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string base = name.substr(0, name.size() - std::string(suffix).size());
        if (name.size() > std::string(suffix).size() && name.ends_with(suffix) && families.count(base) &&
            families[base].type == "histogram")
          name = base;
      }
      if (!families.count(name) || families[name].type.empty()) {
        ADD_FAILURE() << "sample before TYPE: " << line;
        continue;
      }
      const std::string value = m[7];
      double v = 0;
      if (value == "+Inf" || value == "-Inf" || value == "NaN") {
        v = value == "NaN" ? std::nan("") : (value[0] == '+' ? INFINITY : -INFINITY);
      } else {
        size_t used = 0;
        v = std::stod(value, &used);
        EXPECT_EQ(used, value.size()) << line;
      }
      families[name].samples.emplace_back(m[3], v);
    } else {
      ADD_FAILURE() << "not a line of the exposition format: '" << line << "'";
    }
  }
  return families;
}

TEST(LiveStatusTest, PrometheusTextParsesAndItsHistogramIsCumulative) {
  FakeClock clock;
  LiveStatus live(clock.fn());
  RunInfo info = four_clients();
  info.aggregator = "my \"rule\"\\v2";  // label values are escaped
  live.on_run_started(info);
  live.on_clients_registered({0, 1, 2, 3}, "h");
  live.on_clients_lost({3}, "connection closed");
  live.on_upload_memory(512);
  int r = 0;
  for (double seconds : {0.05, 0.3, 0.3, 4.0, 7200.0}) {
    RoundMetrics m = round_of(++r, {row(0, "ok")}, seconds);
    m.test_accuracy = 0.5 + 0.1 * r;
    m.test_loss = 1.0 / r;
    live.on_round_closed(m);
    live.on_round_committed(m);
  }
  const auto families = parse_exposition(live.prometheus_text());
  const std::map<std::string, std::string> expected = {{"flotilla_rounds_completed_total", "counter"},
                                                       {"flotilla_test_accuracy", "gauge"},
                                                       {"flotilla_test_loss", "gauge"},
                                                       {"flotilla_bytes_sent_total", "counter"},
                                                       {"flotilla_bytes_received_total", "counter"},
                                                       {"flotilla_clients_alive", "gauge"},
                                                       {"flotilla_clients_lost_total", "counter"},
                                                       {"flotilla_upload_memory_bytes", "gauge"},
                                                       {"flotilla_round_duration_seconds", "histogram"}};
  for (const auto& [name, type] : expected) {
    ASSERT_TRUE(families.count(name)) << name;
    EXPECT_EQ(families.at(name).type, type) << name;
  }
  EXPECT_EQ(families.at("flotilla_rounds_completed_total").samples[0].second, 5);
  EXPECT_DOUBLE_EQ(families.at("flotilla_test_accuracy").samples[0].second, 1.0);
  EXPECT_EQ(families.at("flotilla_bytes_sent_total").samples[0].second, 5 * 300);
  EXPECT_EQ(families.at("flotilla_bytes_received_total").samples[0].second, 5 * 160);
  EXPECT_EQ(families.at("flotilla_clients_alive").samples[0].second, 3);
  EXPECT_EQ(families.at("flotilla_clients_lost_total").samples[0].second, 1);
  EXPECT_EQ(families.at("flotilla_upload_memory_bytes").samples[0].second, 512);
  EXPECT_NE(families.at("flotilla_run_info").samples[0].first.find(R"(aggregator="my \"rule\"\\v2")"),
            std::string::npos);

  const auto& histogram = families.at("flotilla_round_duration_seconds").samples;
  // Buckets, +Inf last, then _sum and _count.
  ASSERT_EQ(histogram.size(), LiveStatus::duration_buckets().size() + 3);
  double previous = 0;
  for (size_t b = 0; b <= LiveStatus::duration_buckets().size(); ++b) {
    EXPECT_GE(histogram[b].second, previous) << "buckets are cumulative: " << histogram[b].first;
    previous = histogram[b].second;
  }
  EXPECT_EQ(histogram[0].first, "le=\"0.1\"");
  EXPECT_EQ(histogram[0].second, 1);                                          // 0.05
  EXPECT_EQ(histogram[2].second, 3);                                          // le 0.5: 0.05, 0.3, 0.3
  EXPECT_EQ(histogram[LiveStatus::duration_buckets().size() - 1].second, 4);  // le 1800: all but 7200
  EXPECT_EQ(histogram[LiveStatus::duration_buckets().size()].first, "le=\"+Inf\"");
  EXPECT_EQ(histogram[LiveStatus::duration_buckets().size()].second, 5);
  EXPECT_DOUBLE_EQ(histogram[histogram.size() - 2].second, 0.05 + 0.3 + 0.3 + 4.0 + 7200.0);  // _sum
  EXPECT_EQ(histogram.back().second, 5);                                                      // _count
}

TEST(LiveStatusTest, PrometheusLeavesOutWhatIsNotKnownYet) {
  LiveStatus live;
  live.on_run_started(four_clients());
  const auto families = parse_exposition(live.prometheus_text());
  EXPECT_FALSE(families.count("flotilla_test_accuracy")) << "no round evaluated yet";
  EXPECT_FALSE(families.count("flotilla_privacy_epsilon"));
  EXPECT_EQ(families.at("flotilla_round_duration_seconds").samples.back().second, 0);
}

}  // namespace
}  // namespace flotilla
