// How the client state store behaves with many logical clients in one process: every client saves
// a model-sized state (round 1), then every client loads it and saves the next (round 2), as two
// rounds of SCAFFOLD with full participation would. Prints one table row: clients, state size,
// memory budget, peak resident memory, states in memory, files written, and the time per save and
// per load. bench/client_state.sh runs it for a few configurations.
//
//   client_state_bench CLIENTS STATE_MB BUDGET_MB [DIR]
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "client/client_state_store.h"

namespace {

int64_t peak_rss_kb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace flotilla;
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CLIENTS STATE_MB BUDGET_MB [DIR]\n", argv[0]);
    return 2;
  }
  const int clients = std::stoi(argv[1]);
  const double state_mb = std::stod(argv[2]), budget_mb = std::stod(argv[3]);
  ClientStateStoreOptions options;
  options.memory_budget_bytes = static_cast<int64_t>(budget_mb * (1 << 20));
  if (argc > 4) options.dir = argv[4];
  const int64_t floats = static_cast<int64_t>(state_mb * (1 << 20) / 4);
  const int64_t rss_before = peak_rss_kb();
  ClientStateStore store(options);
  store.set_tag("bench");

  auto start = std::chrono::steady_clock::now();
  for (int id = 0; id < clients; ++id) {
    ModelState s;
    s.add("c_i/w", at::full({floats}, static_cast<float>(id)));
    if (!store.save(id, 1, s).ok()) return 1;
  }
  const double first_saves = seconds_since(start);
  start = std::chrono::steady_clock::now();
  int64_t wrong = 0;
  for (int id = 0; id < clients; ++id) {
    auto s = store.load(id, 2);
    if (!s.ok()) {
      std::fprintf(stderr, "load failed: %s\n", s.status().to_string().c_str());
      return 1;
    }
    if (s->empty() || (*s)[0].tensor[floats - 1].item<float>() != static_cast<float>(id)) ++wrong;
    if (!store.save(id, 2, *s).ok()) return 1;
  }
  const double second_round = seconds_since(start);
  std::printf("%8d  %8.2f  %9.0f  %12.0f  %12.0f  %8lld  %9.2f  %14.2f  %5lld\n", clients, state_mb, budget_mb,
              static_cast<double>(peak_rss_kb() - rss_before) / 1024.0,
              static_cast<double>(store.bytes_in_memory()) / (1 << 20), static_cast<long long>(store.files_written()),
              1e3 * first_saves / clients, 1e3 * second_round / clients, static_cast<long long>(wrong));
  return wrong == 0 ? 0 : 1;
}
