// Secure aggregation's cost per round, in one process (secagg/protocol.h; bench/secagg.sh runs it):
// for n clients, the complete graph (SecAgg) or k neighbours (SecAgg+), and a share of clients
// dropping after they shared their keys (the costly case: the coordinator rebuilds their mask keys
// and removes their pairwise masks), the bytes each client sends and receives and the seconds
// each client and the coordinator compute. The plain upload of the same vector as float32 is the
// baseline. Not a test: prints a table.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "secagg/protocol.h"

namespace {

using namespace flotilla::secagg;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

size_t bytes_of(const AdvertisedKeys& k) { return 4 + k.cipher_public_key.size() + k.mask_public_key.size(); }
size_t bytes_of(const SealedShares& s) { return 8 + s.sealed.size(); }
size_t bytes_of(const Share& s) { return 8 + 8 * s.values.size(); }

struct Result {
  double client_seconds = 0;  // mean over clients, all stages
  double server_seconds = 0;
  double sent = 0, received = 0;  // mean bytes per client
  bool ok = false;
};

Result run(int n, int k, double dropout, size_t length, int threshold) {
  SecAggParams params{.round = 1, .threshold = threshold, .length = length, .neighbours = k, .graph_seed = 7};
  std::vector<int> ids(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i;
  std::mt19937_64 gen(11);
  std::vector<int> order = ids;
  std::shuffle(order.begin(), order.end(), gen);
  const std::set<int> dropping(order.begin(), order.begin() + static_cast<long>(std::lround(dropout * n)));
  std::map<int, SecAggClient> clients;
  for (int id : ids) clients.emplace(id, SecAggClient(id, params));
  std::map<int, double> client_time, sent, received;
  Result r;
  auto server_start = Clock::now();
  SecAggServer server(params, ids);
  r.server_seconds += seconds_since(server_start);
  auto timed = [&](int id, auto&& f) {
    const auto start = Clock::now();
    auto out = f();
    client_time[id] += seconds_since(start);
    return out;
  };
  auto on_server = [&](auto&& f) {
    const auto start = Clock::now();
    auto out = f();
    r.server_seconds += seconds_since(start);
    return out;
  };
  for (int id : ids) {
    auto keys = timed(id, [&] { return clients.at(id).advertise(); });
    sent[id] += bytes_of(*keys);
    on_server([&] { return server.add_keys(*keys); });
  }
  for (int id : ids) {
    const auto neighbours = server.keys_for(id);
    for (const auto& k2 : neighbours) received[id] += bytes_of(k2);
    auto shares = timed(id, [&] { return clients.at(id).share_keys(neighbours); });
    if (!shares.ok()) return r;
    for (const auto& s : *shares) sent[id] += bytes_of(s);
    on_server([&] { return server.add_shares(id, *shares); });
  }
  std::vector<uint64_t> input(length);
  for (auto& w : input) w = gen();
  for (int id : ids) {
    if (dropping.count(id)) continue;
    const auto mine = server.shares_for(id);
    for (const auto& s : mine) received[id] += bytes_of(s);
    auto masked = timed(id, [&] { return clients.at(id).mask(mine, input); });
    sent[id] += 4 + 8.0 * masked->words.size();
    on_server([&] { return server.add_masked_input(std::move(*masked)); });
  }
  const UnmaskRequest request = server.unmask_request();
  for (int id : ids) {
    if (dropping.count(id)) continue;
    received[id] += 4.0 * (request.survivors.size() + request.dropped.size());
    auto shares = timed(id, [&] { return clients.at(id).unmask(request); });
    if (!shares.ok()) return r;
    for (const auto& [v, s] : shares->self_mask_shares) sent[id] += 4 + bytes_of(s);
    for (const auto& [v, s] : shares->mask_key_shares) sent[id] += 4 + bytes_of(s);
    on_server([&] { return server.add_unmask_shares(std::move(*shares)); });
  }
  auto sum = on_server([&] { return server.finish(); });
  r.ok = sum.ok();
  if (!r.ok) std::fprintf(stderr, "n %d k %d dropout %.1f: %s\n", n, k, dropout, sum.status().message().c_str());
  double time_sum = 0, sent_sum = 0, received_sum = 0;
  int survivors = 0;
  for (int id : ids) {
    if (dropping.count(id)) continue;
    ++survivors;
    time_sum += client_time[id];
    sent_sum += sent[id];
    received_sum += received[id];
  }
  r.client_seconds = time_sum / survivors;
  r.sent = sent_sum / survivors;
  r.received = received_sum / survivors;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t length = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  std::printf("secure aggregation of %zu words (a model of %zu float32 parameters: plain upload %.2f MB)\n", length,
              length, 4.0 * length / 1e6);
  std::printf("%7s %-10s %4s %8s %12s %12s %13s %13s %9s\n", "clients", "graph", "t", "dropout", "sent MB/cl",
              "recv MB/cl", "client s/cl", "coordinator s", "vs plain");
  for (int n : {10, 50, 100}) {
    const int log_k = std::min(n - 1, 2 * static_cast<int>(std::ceil(std::log2(n))));
    for (int k : {n - 1, log_k}) {
      const int t = std::max(2, k / 2 + 1);  // a majority of the neighbours: colluding minorities learn nothing
      for (double dropout : {0.0, 0.1, 0.3}) {
        const Result r = run(n, k, dropout, length, t);
        const std::string graph = k >= n - 1 ? "complete" : "k=" + std::to_string(k);
        std::printf("%7d %-10s %4d %7.0f%% %12.3f %12.4f %13.3f %13.3f %8.2fx%s\n", n, graph.c_str(), t, 100 * dropout,
                    r.sent / 1e6, r.received / 1e6, r.client_seconds, r.server_seconds, r.sent / (4.0 * length),
                    r.ok ? "" : "  FAILED");
        std::fflush(stdout);
      }
      if (log_k >= n - 1) break;  // the same graph twice
    }
  }
  return 0;
}
