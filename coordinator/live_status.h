// LiveStatus: what a run looks like now, gathered from the coordinator's events (RunObserver) and
// read by the live view's HTTP threads (coordinator/live_view_server.h) as JSON for the page and
// scripts, and as Prometheus text for /metrics (docs/live_view.md).
//
// Thread-safety: the events come on the coordinator thread, the reads on any thread; one mutex
// guards the state. An event does O(1) work, or O(its ids), under the lock; a round's entry in
// the history is serialised before the lock is taken. A read copies what it needs under the lock
// and formats it after, so a slow or frequent reader holds the round loop up for no longer than
// one copy of the per-client rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/run_observer.h"

namespace flotilla {

class LiveStatus : public RunObserver {
 public:
  using Clock = std::chrono::steady_clock;

  // What a client is doing, as the page colours it.
  enum class ClientState {
    kUnregistered,  // no process has registered it yet
    kIdle,          // reachable, no task of the current round
    kSampled,       // a task of the current round is being sent
    kTraining,      // its task was sent
    kOffered,       // it finished and waits for its turn to upload (--upload-memory)
    kUploading,     // its upload was granted
    kDone,          // its update arrived
    kTimeout,       // no answer within --round-timeout
    kError,         // it reported an error, or its update was rejected
    kLost,          // its process died or went silent
    kEvaluating,    // a federated evaluation task was sent
    kEvaluated,     // it answered the evaluation
  };
  static const char* state_name(ClientState state);

  // `now` is the clock every "seconds ago" is measured on (tests pass their own).
  explicit LiveStatus(std::function<Clock::time_point()> now = Clock::now);

  void on_run_started(const RunInfo& info) override;
  void on_run_finished(bool ok, const std::string& message) override;
  void on_clients_registered(const std::vector<int>& ids, const std::string& process) override;
  void on_clients_lost(const std::vector<int>& ids, const std::string& why) override;
  void on_heard_from(const std::vector<int>& ids) override;
  void on_tasks_prepared(int round, const std::vector<int>& ids) override;
  void on_tasks_sent(int round, const std::vector<int>& ids) override;
  void on_upload_offered(int id) override;
  void on_upload_granted(int id) override;
  void on_update_received(int id, int64_t wire_bytes) override;
  void on_client_error(int id, const std::string& message) override;
  void on_evaluation_sent(int round, const std::vector<int>& ids) override;
  void on_evaluation_received(int id) override;
  void on_upload_memory(int64_t in_use_bytes) override;
  void on_round_closed(const RoundMetrics& metrics) override;
  void on_round_committed(const RoundMetrics& metrics) override;

  // GET /api/state: the run, the round in progress, one row per client, totals and an estimate of
  // the time left (docs/live_view.md lists the fields).
  std::string state_json() const;
  // GET /api/rounds?since=K: the recorded rounds after round K, then the round that closed and
  // awaits its evaluation (its accuracy null, "committed": false) if after K.
  std::string rounds_json(int since) const;
  // GET /metrics: Prometheus text exposition format 0.0.4.
  std::string prometheus_text() const;

  // Upper bounds of flotilla_round_duration_seconds' buckets (+Inf not included).
  static const std::vector<double>& duration_buckets();

 private:
  struct Row {
    ClientState state = ClientState::kUnregistered;
    Clock::time_point since{};  // when it entered `state`
    int round = 0;              // of its last training task
    bool alive = false;
    std::shared_ptr<const std::string> process;  // shared by the ids of one process
    std::string note;                            // why it was lost, its error, its last round's status
    int64_t samples = 0;
    double loss = 0.0;                                       // training loss of its last answered round; NaN before one
    int64_t bytes_sent = 0, bytes_received = 0;              // its last round's
    int64_t bytes_sent_total = 0, bytes_received_total = 0;  // every round's
    int rounds_answered = 0;
    std::optional<Clock::time_point> last_heard;
    double eval_accuracy = 0.0, eval_loss = 0.0;  // its last federated evaluation; NaN before one
  };
  struct Entry {
    int round = 0;
    std::shared_ptr<const std::string> json;
  };

  Row* row(int id);  // null for an id outside [0, num_clients)
  void set_state(Row& row, ClientState state, Clock::time_point now);
  // A new round's first task: rows still showing an earlier round's outcome become idle.
  void begin_round(int round, Clock::time_point now);
  // Under the lock: client `id` (if it exists) moves to `state`.
  void move_to(int id, ClientState state);
  // Under the lock: the round begins if it had not, and the clients of `ids` take part in it in
  // `state` (a fresh task clears the note of their last outcome).
  void enter_round(int round, const std::vector<int>& ids, ClientState state, bool clear_note);
  std::optional<double> seconds_left(Clock::time_point now) const;
  // What both the JSON state and the Prometheus text report of the run, copied out together so
  // that each formats it after releasing the lock. Requires the lock.
  struct Totals {
    RunInfo info;
    std::string status;
    int alive = 0;
    int last_committed = 0;
    int64_t lost_total = 0, upload_in_use = 0, completed = 0;
    std::optional<double> test_accuracy, test_loss, federated_accuracy, federated_loss, mean_staleness, epsilon;
  };
  Totals totals() const;

  std::function<Clock::time_point()> now_;
  mutable std::mutex mutex_;
  RunInfo info_;
  bool started_ = false;
  std::string status_ = "starting";  // starting | waiting | training | finished | failed
  std::string message_;
  Clock::time_point run_start_{};
  double run_start_unix_ = 0;
  std::vector<Row> rows_;
  int task_round_ = 0;    // highest round a training task was sent for
  int closed_round_ = 0;  // last round closed
  std::optional<Clock::time_point> round_start_;
  int alive_ = 0;
  int64_t lost_total_ = 0;
  int64_t upload_in_use_ = 0;
  // Rounds closed by this process, for the estimate: when each closed.
  std::vector<Clock::time_point> closes_;
  std::vector<double> round_seconds_;
  // Prometheus totals, since this process started.
  int64_t completed_ = 0, failed_ = 0;
  int64_t bytes_sent_total_ = 0, bytes_received_total_ = 0;
  std::vector<int64_t> duration_counts_;  // per bucket, not yet cumulative; the last is +Inf
  double duration_sum_ = 0;
  int64_t duration_count_ = 0;
  // Of the last committed round that had them.
  std::optional<double> test_accuracy_, test_loss_, federated_accuracy_, federated_loss_;
  std::optional<double> mean_staleness_, epsilon_;
  int last_committed_ = 0;
  std::vector<Entry> history_;    // committed rounds, ascending
  std::optional<Entry> pending_;  // closed, not yet committed
};

}  // namespace flotilla
