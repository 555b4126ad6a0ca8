// FLOTILLA_CHECK: invariants of our own code. Fires in release builds too (like gloo's
// GLOO_ENFORCE). Never use it on anything that came from the network, a file or a user: those
// get a Status.
#pragma once

#include <sstream>

namespace flotilla::internal {

// Collects the streamed message and aborts in its destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  template <typename T>
  CheckFailure& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

// Lets the macro swallow the stream expression in a ternary.
struct Voidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace flotilla::internal

#define FLOTILLA_CHECK(condition) \
  (condition) ? (void)0           \
              : ::flotilla::internal::Voidify() & ::flotilla::internal::CheckFailure(__FILE__, __LINE__, #condition)
