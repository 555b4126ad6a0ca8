#include "core/status.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace flotilla {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kDataLoss:
      return "DATA_LOSS";
    case StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case StatusCode::kAborted:
      return "ABORTED";
    case StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case StatusCode::kInternal:
      return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  return std::string(status_code_name(code_)) + ": " + message_;
}

Status Status::with_context(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

Status invalid_argument_error(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
Status not_found_error(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
Status already_exists_error(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
Status permission_denied_error(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
Status out_of_range_error(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
Status failed_precondition_error(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
Status data_loss_error(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
Status deadline_exceeded_error(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
Status unavailable_error(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
Status aborted_error(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
Status unimplemented_error(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

namespace internal {

CheckFailure::CheckFailure(const char* file, int line, const char* condition) {
  stream_ << "FLOTILLA_CHECK failed at " << file << ":" << line << ": " << condition << " ";
}

CheckFailure::~CheckFailure() {
  std::cerr << stream_.str() << std::endl;
  std::abort();
}

}  // namespace internal
}  // namespace flotilla
