// flotilla-run's command line: its own options, plus everything else passed through verbatim to
// the coordinator (so "--rounds 5 --aggregator-opt k=v" need no copy of the coordinator's flags).
#pragma once

#include <optional>
#include <ostream>

#include "launcher/launch_options.h"

namespace flotilla {

struct CommandLine {
  LaunchOptions options;
  // Set when parsing already decided the outcome: 0 after --help, 2 for a malformed command line.
  std::optional<int> exit_code;
};

// Parses argv (argv[0] is the program). Help goes to `out`, errors to `err`. Checks only the
// syntax; values are validated by LaunchPlan::create. A `--config FILE` is read here too, so
// `clients = 10` in the file counts; it is also passed on to every child.
CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace flotilla
