// The live view in a real browser: a real coordinator and client processes run while headless
// Chromium opens the page; the test reads the page's DOM (the rounds and each client's state, as
// they change), the browser's console and the page's own error box, and keeps a screenshot under
// the build tree (test-artifacts/). Skipped when no Chromium is installed (scripts/install-deps.sh
// installs Debian's).
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cluster.h"
#include "process.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using flotilla::testing::ChildProcess;
using flotilla::testing::LocalCluster;
using flotilla::testing::read_file;
using flotilla::testing::wait_for_file;
using nlohmann::json;

const std::string kArtifacts = FLOTILLA_ARTIFACT_DIR;

// $FLOTILLA_CHROMIUM, else the first of Debian's and the usual names on PATH; empty when none.
std::string find_chromium() {
  if (const char* given = std::getenv("FLOTILLA_CHROMIUM"); given && *given) return given;
  std::vector<std::string> dirs = {"/usr/bin"};
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (size_t start = 0, end; start <= p.size(); start = end + 1) {
      end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      dirs.push_back(p.substr(start, end - start));
    }
  }
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    for (const auto& dir : dirs)
      if (::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

// What the browser made of the page: its DOM after a few polls, and its console.
struct PageView {
  std::string dom;
  std::string console;

  std::string first(const std::string& pattern) const {
    std::smatch m;
    return std::regex_search(dom, m, std::regex(pattern)) ? m[1].str() : "";
  }
  // data-state of each client row of the table, by id.
  std::map<int, std::string> table_states() const {
    std::map<int, std::string> states;
    static const std::regex row(R"re(<tr data-client-id="(\d+)" data-state="([a-z]+)")re");
    for (auto it = std::sregex_iterator(dom.begin(), dom.end(), row); it != std::sregex_iterator(); ++it)
      states[std::stoi((*it)[1])] = (*it)[2];
    return states;
  }
  // data-state of each chip of the round panel, by id.
  std::map<int, std::string> chip_states() const {
    std::map<int, std::string> states;
    static const std::regex chip(R"re(class="chip [^"]*" data-client-id="(\d+)" data-state="([a-z]+)")re");
    for (auto it = std::sregex_iterator(dom.begin(), dom.end(), chip); it != std::sregex_iterator(); ++it)
      states[std::stoi((*it)[1])] = (*it)[2];
    return states;
  }
  // Console messages (the page writes none; anything there is an error or a failed request).
  std::vector<std::string> console_messages() const {
    std::vector<std::string> lines;
    std::istringstream in(console);
    for (std::string line; std::getline(in, line);)
      if (line.find(":CONSOLE") != std::string::npos) lines.push_back(line);
    return lines;
  }
};

class Browser {
 public:
  Browser(std::string chromium, std::string dir) : chromium_(std::move(chromium)), dir_(std::move(dir)) {}

  // Opens `url` for a few seconds of the page's (virtual) time; with `screenshot`, saves one there.
  PageView open(const std::string& url, const std::string& name, const std::string& screenshot = "") {
    const std::string dom = dir_ + "/" + name + ".html", console = dir_ + "/" + name + ".console";
    // The page is our own, on loopback: the sandbox (which needs user namespaces, and refuses root)
    // protects nothing here.
    std::string command = "exec '" + chromium_ +
                          "' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                          "--user-data-dir='" +
                          dir_ + "/profile' --virtual-time-budget=4000 --enable-logging=stderr --v=0 ";
    command += screenshot.empty() ? "--dump-dom"
                                  : "--hide-scrollbars --window-size=1280,1700 --screenshot='" + screenshot + "'";
    command += " '" + url + "' > '" + dom + "' 2> '" + console + "'";
    ChildProcess browser({"/bin/sh", "-c", command}, dir_ + "/" + name + ".log");
    const int code = browser.wait_for(90s);
    EXPECT_EQ(code, 0) << "chromium " << (code < 0 ? "timed out" : "failed") << ": " << read_file(console);
    if (code < 0) browser.kill_now();
    return {read_file(dom), read_file(console)};
  }

 private:
  std::string chromium_;
  std::string dir_;
};

// Polls the live view's /api/state until `ready` holds (true) or `timeout` passes (false).
bool wait_for_state(httplib::Client& http, const std::function<bool(const json&)>& ready, std::chrono::seconds timeout,
                    json* last) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto response = http.Get("/api/state"); response && response->status == 200) {
      *last = json::parse(response->body);
      if (ready(*last)) return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

std::string state_of(const json& state, int id) { return state["clients"][static_cast<size_t>(id)]["state"]; }

void expect_clean(const PageView& view, const std::string& when) {
  EXPECT_EQ(view.first(R"re(id="page-errors" data-count="(\d+)")re"), "0") << when << ": " << view.dom;
  EXPECT_EQ(view.first(R"re(id="page-errors" data-count="\d+">([^<]+)<)re"), "") << when;
  const auto messages = view.console_messages();
  EXPECT_TRUE(messages.empty()) << when << ": the console says\n"
                                << [&] {
                                     std::string all;
                                     for (const auto& m : messages) all += m + "\n";
                                     return all;
                                   }();
  EXPECT_EQ(view.first(R"re(id="connection" data-connected="(\w+)")re"), "true") << when;
}

// Six clients in three processes: the second hangs in round 3 and is then killed (its clients end
// as lost), the third hangs in round 5, so that the page is caught in known states mid-round.
TEST(LiveViewBrowserTest, ThePageShowsTheRoundsAndClientStatesAsTheRunGoes) {
  const std::string chromium = find_chromium();
  if (chromium.empty())
    GTEST_SKIP() << "no Chromium installed (chromium, chromium-browser or google-chrome on PATH, "
                    "or $FLOTILLA_CHROMIUM); scripts/install-deps.sh installs it";
  LocalCluster cluster("live-view");
  const std::string url_file = cluster.dir() + "/live-view-url";
  std::vector<std::string> flags = flotilla::testing::small_experiment_flags(4);
  flags.insert(flags.end(), {"--clients", "6", "--rounds", "6", "--min-fit", "1", "--round-timeout", "300",
                             "--federated-eval", "on", "--live-view", "127.0.0.1:0", "--live-view-url-file", url_file});
  ASSERT_TRUE(cluster.start_coordinator(flags));
  ASSERT_TRUE(wait_for_file(url_file, 30s));
  std::string url = read_file(url_file);
  url.erase(url.find_last_not_of('\n') + 1);
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  httplib::Client http(url.substr(0, url.size() - 1));
  Browser browser(chromium, cluster.dir());
  json state;

  // Waiting for clients: two of six registered.
  cluster.start_client("0-1");
  ASSERT_TRUE(wait_for_state(
      http, [](const json& s) { return s["counts"]["alive"] == 2; }, 60s, &state))
      << state.dump();
  PageView waiting = browser.open(url, "waiting");
  expect_clean(waiting, "waiting");
  EXPECT_EQ(waiting.first(R"re(id="run-status" data-status="(\w+)")re"), "waiting");
  EXPECT_EQ(waiting.first(R"re(id="round-number">(\d+)<)re"), "1");
  EXPECT_EQ(waiting.first(R"re(id="round-total">(\d+)<)re"), "6");
  auto rows = waiting.table_states();
  ASSERT_EQ(rows.size(), 6u) << waiting.dom;
  EXPECT_EQ(rows[0], "idle");
  EXPECT_EQ(rows[1], "idle");
  for (int id = 2; id < 6; ++id) EXPECT_EQ(rows[id], "unregistered") << id;

  // Round 3: process 2 hangs, the others are done.
  cluster.start_client("2-3", {"--hang-at-round", "3"});
  cluster.start_client("4-5", {"--hang-at-round", "5"});
  auto round_with = [](int round, const std::vector<int>& done, const std::vector<int>& training) {
    return [=](const json& s) {
      if (s["round"]["number"] != round) return false;
      for (int id : done)
        if (state_of(s, id) != "done") return false;
      for (int id : training)
        if (state_of(s, id) != "training") return false;
      return true;
    };
  };
  ASSERT_TRUE(wait_for_state(http, round_with(3, {0, 1, 4, 5}, {2, 3}), 120s, &state)) << state.dump();
  PageView third = browser.open(url, "round3");
  expect_clean(third, "round 3");
  EXPECT_EQ(third.first(R"re(id="run-status" data-status="(\w+)")re"), "training");
  EXPECT_EQ(third.first(R"re(id="round-number">(\d+)<)re"), "3");
  rows = third.table_states();
  const std::map<int, std::string> expected3 = {{0, "done"},     {1, "done"}, {2, "training"},
                                                {3, "training"}, {4, "done"}, {5, "done"}};
  EXPECT_EQ(rows, expected3);
  EXPECT_EQ(third.chip_states(), expected3) << "the round panel shows the round's clients";
  EXPECT_GE(std::stoi("0" + third.first(R"re(id="rounds-count" class="muted" data-count="(\d+)")re")), 2)
      << "rounds 1 and 2 are charted";
  EXPECT_GT(std::stoi("0" + third.first(R"re(id="chart-accuracy" data-points="(\d+)")re")), 0);

  // Process 2 dies: its clients are lost; round 5: process 3 hangs.
  cluster.client("2-3").kill_now();
  ASSERT_TRUE(wait_for_state(http, round_with(5, {0, 1}, {4, 5}), 120s, &state)) << state.dump();
  const std::string screenshot = kArtifacts + "/live_view_round_5.png";
  std::filesystem::create_directories(kArtifacts);
  std::filesystem::remove(screenshot);
  PageView fifth = browser.open(url, "round5");
  expect_clean(fifth, "round 5");
  EXPECT_EQ(fifth.first(R"re(id="round-number">(\d+)<)re"), "5");
  rows = fifth.table_states();
  const std::map<int, std::string> expected5 = {{0, "done"}, {1, "done"},     {2, "lost"},
                                                {3, "lost"}, {4, "training"}, {5, "training"}};
  EXPECT_EQ(rows, expected5);
  EXPECT_TRUE(std::regex_search(fifth.dom, std::regex("connection closed|silent for"))) << "why 2 and 3 were lost";
  EXPECT_GT(std::stoi("0" + fifth.first(R"re(id="rounds-count" class="muted" data-count="(\d+)")re")),
            std::stoi("0" + third.first(R"re(id="rounds-count" class="muted" data-count="(\d+)")re")));
  const PageView shot = browser.open(url, "round5-shot", screenshot);
  EXPECT_TRUE(shot.console_messages().empty()) << shot.console;
  ASSERT_TRUE(std::filesystem::exists(screenshot));
  EXPECT_GT(std::filesystem::file_size(screenshot), 10000u);
  EXPECT_EQ(read_file(screenshot).substr(1, 3), "PNG");
  std::cout << "live view screenshot: " << screenshot << std::endl;

  // The run still finishes.
  cluster.client("4-5").kill_now();
  EXPECT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  EXPECT_EQ(cluster.rounds().size(), 6u);
}

// A token given in the page's URL goes on every API call the page makes; a wrong one shows why.
TEST(LiveViewBrowserTest, ThePageSendsTheTokenItWasOpenedWith) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "no Chromium installed; scripts/install-deps.sh installs it";
  LocalCluster cluster("live-view-token");
  const std::string url_file = cluster.dir() + "/live-view-url", token_file = cluster.dir() + "/token";
  std::ofstream(token_file) << "browser-test-token-0123456789\n";
  std::vector<std::string> flags = flotilla::testing::small_experiment_flags();
  flags.insert(flags.end(), {"--clients", "2", "--rounds", "1", "--live-view", "127.0.0.1:0", "--live-view-token-file",
                             token_file, "--live-view-url-file", url_file});
  ASSERT_TRUE(cluster.start_coordinator(flags));
  ASSERT_TRUE(wait_for_file(url_file, 30s));
  std::string url = read_file(url_file);
  url.erase(url.find_last_not_of('\n') + 1);
  Browser browser(chromium, cluster.dir());

  PageView right = browser.open(url + "?token=browser-test-token-0123456789", "right");
  expect_clean(right, "with the token");
  EXPECT_EQ(right.first(R"re(id="run-status" data-status="(\w+)")re"), "waiting");
  EXPECT_EQ(right.table_states().size(), 2u);

  // A wrong token: the page itself is refused.
  PageView wrong = browser.open(url + "?token=not-the-token-000000000", "wrong");
  EXPECT_NE(wrong.dom.find("wrong token"), std::string::npos) << wrong.dom;
  cluster.coordinator().kill_now();
}

}  // namespace
}  // namespace flotilla
