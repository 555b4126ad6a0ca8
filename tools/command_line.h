// The command line of Flotilla's tools, read one way: --help prints the usage and exits 0; a bad
// or missing flag prints "error: <what>" and exits 2 (kExitUsage), before anything runs.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>

namespace flotilla {

inline constexpr int kExitUsage = 2;

// Parses `argv` into `app`; the exit code when the tool must stop now, nothing when it runs.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace flotilla
