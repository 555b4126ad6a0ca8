// The part of a LibTorch exception a user can act on, for Status messages of the models module
// (which turns library exceptions into Status at its boundary).
#pragma once

#include <c10/util/Exception.h>

#include <algorithm>
#include <exception>
#include <string>

namespace flotilla {

// One line: c10::Error's message without its C++ backtrace; for an error raised inside the
// TorchScript interpreter (whose message starts with the interpreter's preamble and a TorchScript
// traceback), the raised error's own first line ("RuntimeError: mat1 and mat2 shapes ...").
inline std::string torch_error_message(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  if (text.starts_with("The following operation failed in the TorchScript interpreter")) {
    // The traceback's lines are indented; the raised error is the last unindented line naming one.
    size_t start = std::string::npos;
    for (size_t pos = 0; pos < text.size();) {
      const size_t end = std::min(text.find('\n', pos), text.size());
      const std::string line = text.substr(pos, end - pos);
      if (!line.empty() && line[0] != ' ' && line.find("Error") != std::string::npos && pos > 0) start = pos;
      pos = end + 1;
    }
    if (start != std::string::npos) text = text.substr(start);
  }
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r' || text.back() == '\t')) text.pop_back();
  return text;
}

}  // namespace flotilla
