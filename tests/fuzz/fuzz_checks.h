// What every fuzz target does when a property fails: say what, with the parser's Status, and trap
// so that libFuzzer (or the replay driver, under ctest) reports a crash and keeps the input.
#pragma once

#include <cstdio>

#include "core/status.h"

namespace flotilla::fuzz {

[[noreturn]] inline void fail(const char* what, const Status& status = {}) {
  std::fprintf(stderr, "fuzz property violated: %s %s\n", what, status.ok() ? "" : status.to_string().c_str());
  __builtin_trap();
}

// Bad input must come back as a named Status; kInternal means a library threw on input the parser
// should have refused first.
inline void check_not_internal(const Status& status) {
  if (status.code() == StatusCode::kInternal) fail("unchecked input reached a library:", status);
}

}  // namespace flotilla::fuzz
