#include "tests/collective/rank_processes.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <thread>

#include "transport/zmq/zmq_channels.h"
#include "transport/zmq/zmq_context.h"

namespace flotilla::testing {
namespace {

// One LibTorch thread in the parent from the start, so no pool exists to be lost by fork().
const bool kOneThread = [] {
  at::set_num_threads(1);
  return true;
}();

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// zmq_ctx_term waits for every socket's lingering messages to go out; bounded, since a peer may
// be dead (then its messages never leave). The thread is left behind when the bound passes: the
// process exits right after.
void end_zmq_context(std::chrono::milliseconds bound) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> ended = done->get_future();
  std::thread([done] {
    zmq_ctx_term(zmq_context());
    done->set_value();
  }).detach();
  ended.wait_for(bound);
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != 0 ? base : "/tmp") + "/flotilla-collective-XXXXXX";
  char* made = mkdtemp(pattern.data());
  path_ = made != nullptr ? std::string(made) : std::string();
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

std::vector<PeerInfo> ipc_group(const std::string& dir, int n) {
  std::vector<PeerInfo> peers;
  for (int r = 0; r < n; ++r) peers.push_back({r, "ipc://" + dir + "/rank-" + std::to_string(r), ""});
  return peers;
}

std::vector<RankOutcome> run_ranks(const std::string& dir, int n, std::chrono::milliseconds limit,
                                   const std::function<std::string(int rank)>& body) {
  std::fflush(nullptr);
  std::vector<pid_t> pids(n, -1);
  for (int r = 0; r < n; ++r) {
    const pid_t pid = fork();
    if (pid == 0) {
      at::set_num_threads(1);
      std::string error;
      try {
        error = body(r);
      } catch (const std::exception& e) {
        error = std::string("exception: ") + e.what();
      } catch (...) {
        error = "unknown exception";
      }
      if (!error.empty()) std::ofstream(dir + "/rank-" + std::to_string(r) + ".err") << error;
      end_zmq_context(std::chrono::milliseconds(3000));
      std::fflush(nullptr);
      _exit(error.empty() ? 0 : 1);
    }
    pids[r] = pid;
  }
  std::vector<RankOutcome> outcomes(n);
  std::vector<bool> reaped(n, false);
  int left = n;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (left > 0) {
    for (int r = 0; r < n; ++r) {
      if (reaped[r] || pids[r] < 0) continue;
      int status = 0;
      if (waitpid(pids[r], &status, WNOHANG) != pids[r]) continue;
      reaped[r] = true;
      --left;
      outcomes[r].exited = WIFEXITED(status);
      outcomes[r].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      outcomes[r].signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    if (left == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      for (int r = 0; r < n; ++r) {
        if (reaped[r] || pids[r] < 0) continue;
        kill(pids[r], SIGKILL);
        int status = 0;
        waitpid(pids[r], &status, 0);
        outcomes[r].timed_out = true;
        outcomes[r].signal = SIGKILL;
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int r = 0; r < n; ++r) outcomes[r].error = read_text(dir + "/rank-" + std::to_string(r) + ".err");
  return outcomes;
}

std::string failures(const std::vector<RankOutcome>& outcomes) {
  std::string text;
  for (size_t r = 0; r < outcomes.size(); ++r) {
    const RankOutcome& o = outcomes[r];
    if (o.exited && o.exit_code == 0) continue;
    text += "rank " + std::to_string(r) + (o.timed_out ? " hung (killed)" : "") +
            (o.signal != 0 ? " signal " + std::to_string(o.signal) : "") + " exit " + std::to_string(o.exit_code) +
            ": " + o.error + "\n";
  }
  return text;
}

void write_floats(const std::string& path, const at::Tensor& values) {
  const at::Tensor data = values.to(at::kCPU, at::kFloat).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data.data_ptr()), static_cast<std::streamsize>(data.numel() * sizeof(float)));
}

at::Tensor read_floats(const std::string& path) {
  const std::string bytes = read_text(path);
  at::Tensor values = at::empty({static_cast<int64_t>(bytes.size() / sizeof(float))}, at::kFloat);
  std::memcpy(values.data_ptr(), bytes.data(), values.numel() * sizeof(float));
  return values;
}

}  // namespace flotilla::testing
