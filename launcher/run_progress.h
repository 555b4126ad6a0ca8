// What flotilla-run's live progress line says (launcher/status_line.h draws it): the run's state
// as the coordinator's live view reports it (GET /api/state, coordinator/live_status.h), read and
// turned into one line of text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace flotilla {

struct RunProgress {
  std::string status;            // starting | waiting | training | finished | failed
  int round = 0;                 // the round in progress (the last one once finished)
  int rounds = 0;                // the run's last round
  int sampled = 0;               // clients given a task of `round`
  int done = 0;                  // ... whose update arrived
  int alive = 0;                 // clients registered and alive
  int clients = 0;               // logical clients of the run
  std::optional<double> left_s;  // the coordinator's estimate of the time left
};

// Reads the fields above from /api/state's JSON; InvalidArgument when it is not that.
StatusOr<RunProgress> parse_run_progress(std::string_view state_json);

// "round 3/10  clients 7/10 done  elapsed 1m12s  left ~2m30s"; before the first round "waiting
// for clients 2/10  elapsed 5s"; without any state yet (the coordinator is loading its data)
// "starting  elapsed 3s". `elapsed_s` is flotilla-run's own.
std::string progress_text(const std::optional<RunProgress>& progress, double elapsed_s);

// "4.2s" under 10 s, "42s", "1m12s", "2h05m".
std::string short_duration(double seconds);

}  // namespace flotilla
