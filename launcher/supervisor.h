// Runs one launch: starts the coordinator, waits for its endpoint, starts the client processes,
// streams everyone's output, and decides when and how the run ends.
//
//   starting  coordinator runs, clients not yet; its endpoint file is awaited (bounded)
//   running   everyone runs; any child failing stops the others
//   draining  the coordinator finished well; clients get a grace period to exit on their own
//   stopping  SIGTERM sent to every child's process group; SIGKILL after the stop timeout
//
// Not thread-safe; run() is called once.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "launcher/launch_keys.h"
#include "launcher/launch_plan.h"
#include "launcher/line_streamer.h"
#include "launcher/live_view_poller.h"
#include "launcher/process.h"
#include "launcher/signal_pipe.h"

namespace flotilla {

struct SupervisorOptions {
  // Colour the prefixes of lines written to stdout / stderr (when those are terminals).
  bool colour_stdout = false;
  bool colour_stderr = false;
};

class Supervisor {
 public:
  Supervisor(const LaunchPlan& plan, SupervisorOptions options);
  ~Supervisor();

  // Runs until every child has ended; returns flotilla-run's exit status: 0 when the coordinator
  // finished well, the coordinator's own status (or 1) when a child failed, 128 + signal when
  // `signals` reported SIGINT, SIGTERM or SIGHUP.
  int run(SignalPipe& signals);

 private:
  using Clock = std::chrono::steady_clock;
  enum class Phase { kStarting, kRunning, kDraining, kStopping };
  struct Child;

  bool start_child(std::string name, const std::vector<std::string>& argv, bool is_coordinator);
  void start_clients(const std::string& endpoint);
  // Polls the pipes and the signal pipe for at most `timeout`, streaming whatever arrived.
  void poll_once(SignalPipe& signals, std::chrono::milliseconds timeout);
  void read_pipe(Child& child, bool is_stdout);
  void handle_signal(int signal);
  void reap_children();
  void on_exit(Child& child, const ExitStatus& status);
  void on_deadline();
  void check_endpoint();
  // Marks the run failed with `status` (the first failure wins) and stops every child.
  void fail(int status);
  void begin_stop();
  void kill_all();
  bool any_running() const;
  bool any_pipe_open() const;
  std::chrono::milliseconds poll_timeout() const;
  void print_summary() const;

  const LaunchPlan& plan_;
  SupervisorOptions options_;
  std::string temp_dir_;            // private (0700): the endpoint file and throwaway keys
  std::optional<LaunchKeys> keys_;  // when the run is encrypted
  std::string endpoint_file_;
  std::vector<std::unique_ptr<Child>> children_;  // [0] is the coordinator
  Phase phase_ = Phase::kStarting;
  std::optional<Clock::time_point> deadline_;
  bool killed_ = false;
  std::optional<int> result_;
  int rounds_seen_ = 0;
  Clock::time_point started_{};
  // On a terminal (LaunchOptions::progress_line): the progress line, drawn from the live view.
  std::unique_ptr<StatusLine> status_line_;
  std::unique_ptr<LiveViewPoller> poller_;
};

}  // namespace flotilla
