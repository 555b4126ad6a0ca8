// flotilla-run: one command for a whole federated run on this machine: a coordinator and
// client processes, their output streamed with prefixes, everything stopped together.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "core/log.h"
#include "launcher/command_line.h"
#include "launcher/launch_plan.h"
#include "launcher/signal_pipe.h"
#include "launcher/supervisor.h"

namespace {

constexpr int kUsageError = 2;

// Colour only for a terminal, and never against the user's wish (https://no-color.org).
bool use_colour(int fd) {
  const char* no_colour = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return ::isatty(fd) == 1 && (no_colour == nullptr || *no_colour == '\0') &&
         (term == nullptr || std::string(term) != "dumb");
}

// A terminal that can redraw a line in place.
bool redraws_lines(int fd) {
  const char* term = std::getenv("TERM");
  return ::isatty(fd) == 1 && (term == nullptr || std::string(term) != "dumb");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace flotilla;
  set_log_tag("flotilla-run");
  CommandLine command_line = parse_command_line(argc, argv, std::cout, std::cerr);
  if (command_line.exit_code) return *command_line.exit_code;
  LaunchOptions& options = command_line.options;

  // The progress line redraws itself with "\r": only on a terminal, where a person watches.
  options.progress_line = !options.no_progress && redraws_lines(STDOUT_FILENO);
  if (options.bin_dir.empty()) {
    auto dir = executable_dir();
    if (!dir.ok()) {
      std::cerr << "flotilla-run: error: " << dir.status().message() << "\n";
      return kUsageError;
    }
    options.bin_dir = *dir;
  }
  auto plan = LaunchPlan::create(std::move(options), available_cpus());
  if (!plan.ok()) {
    std::cerr << "flotilla-run: error: " << plan.status().message() << "\nRun with --help for more information.\n";
    return kUsageError;
  }
  LogLevel level = LogLevel::kInfo;
  if (!plan->options().log_level.empty()) parse_log_level(plan->options().log_level, &level);
  set_log_level(level);

  // A closed stdout (`flotilla-run | head`) must not kill the launcher and orphan the run;
  // the streamers notice EPIPE and drop lines instead.
  std::signal(SIGPIPE, SIG_IGN);
  auto signals = SignalPipe::install();
  if (!signals.ok()) {
    FLOTILLA_LOG(Error) << signals.status();
    return 1;
  }
  Supervisor supervisor(*plan,
                        {.colour_stdout = use_colour(STDOUT_FILENO), .colour_stderr = use_colour(STDERR_FILENO)});
  return supervisor.run(**signals);
}
