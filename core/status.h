// Status and StatusOr: how recoverable failures travel (bad peer input, timeouts, I/O, config,
// plugin load). Shaped after abseil so that the macros below read the same way.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>

#include "core/check.h"

namespace flotilla {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong (flags, config, a malformed message)
  kNotFound,         // a file, name or peer does not exist
  kAlreadyExists,
  kOutOfRange,
  kFailedPrecondition,  // the system is not in a state where the call can succeed
  kDataLoss,            // a file or message is truncated or corrupt
  kDeadlineExceeded,    // a timeout passed
  kUnavailable,         // a peer or transport is gone
  kAborted,             // the run was stopped (signal, shutdown)
  kUnimplemented,
  kInternal,  // a library threw something we did not expect
  // Appended, not sorted in: the values travel in protocol Error messages, so they never change.
  kPermissionDenied,  // the caller is known but not allowed to do this (e.g. a client id it was not given)
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string to_string() const;

  // Returns a copy whose message is "context: message"; OK stays OK.
  Status with_context(const std::string& context) const;

  // Marks the result as deliberately ignored.
  void ignore_error() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.to_string(); }

Status invalid_argument_error(std::string message);
Status not_found_error(std::string message);
Status already_exists_error(std::string message);
Status permission_denied_error(std::string message);
Status out_of_range_error(std::string message);
Status failed_precondition_error(std::string message);
Status data_loss_error(std::string message);
Status deadline_exceeded_error(std::string message);
Status unavailable_error(std::string message);
Status aborted_error(std::string message);
Status unimplemented_error(std::string message);
Status internal_error(std::string message);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& status) : status_(status) {  // NOLINT: implicit by design
    FLOTILLA_CHECK(!status.ok()) << "StatusOr built from an OK Status without a value";
  }
  StatusOr(Status&& status) : status_(std::move(status)) {  // NOLINT
    FLOTILLA_CHECK(!status_.ok()) << "StatusOr built from an OK Status without a value";
  }
  StatusOr(const T& value) : value_(value) {}        // NOLINT
  StatusOr(T&& value) : value_(std::move(value)) {}  // NOLINT
  template <typename U,
            typename = std::enable_if_t<std::is_convertible_v<U&&, T> && !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, T>>>
  StatusOr(U&& value) : value_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  const T& value() const& {
    check_ok();
    return *value_;
  }
  T& value() & {
    check_ok();
    return *value_;
  }
  T&& value() && {
    check_ok();
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void check_ok() const { FLOTILLA_CHECK(ok()) << "value() on an error: " << status_.to_string(); }

  Status status_;
  std::optional<T> value_;
};

}  // namespace flotilla

#define FLOTILLA_STATUS_CONCAT_INNER(a, b) a##b
#define FLOTILLA_STATUS_CONCAT(a, b) FLOTILLA_STATUS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::flotilla::Status flotilla_status_ = (expr);        \
    if (!flotilla_status_.ok()) return flotilla_status_; \
  } while (0)

// ASSIGN_OR_RETURN(auto x, MakeX()); declares or assigns `lhs` from a StatusOr, returning on error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  FLOTILLA_ASSIGN_OR_RETURN_IMPL(FLOTILLA_STATUS_CONCAT(flotilla_statusor_, __LINE__), lhs, expr)
#define FLOTILLA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
