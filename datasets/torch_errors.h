// Keeps library exceptions inside the datasets module: torch reports allocation failures and
// misuse by throwing c10::Error, while the module's contract is Status.
#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <string>

#include "core/status.h"

namespace flotilla {

// Runs `body` (returning Status or StatusOr<T>) and turns an escaping exception into Internal,
// prefixed with `what`. c10::Error is reported without its (long) backtrace.
template <typename Body>
auto status_from_exceptions(const std::string& what, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const c10::Error& e) {
    return internal_error(what + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    return internal_error(what + ": " + e.what());
  }
}

}  // namespace flotilla
