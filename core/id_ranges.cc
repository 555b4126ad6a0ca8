#include "core/id_ranges.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace flotilla {
namespace {

bool parse_int(const std::string& s, int* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && *out >= 0;
}

}  // namespace

StatusOr<std::vector<int>> parse_client_ids(const std::string& text) {
  std::vector<int> ids;
  std::stringstream ss(text);
  std::string piece;
  while (std::getline(ss, piece, ',')) {
    const auto dash = piece.find('-');
    int lo = 0, hi = 0;
    const bool ok = dash == std::string::npos
                        ? (parse_int(piece, &lo) && (hi = lo, true))
                        : parse_int(piece.substr(0, dash), &lo) && parse_int(piece.substr(dash + 1), &hi) && lo <= hi;
    if (!ok) return invalid_argument_error("client ids '" + text + "': '" + piece + "' is not an id or a range A-B");
    if (hi - lo > 1000000) return invalid_argument_error("client id range '" + piece + "' is too large");
    for (int id = lo; id <= hi; ++id) ids.push_back(id);
  }
  if (ids.empty()) return invalid_argument_error("no client ids given");
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::string format_client_ids(const std::vector<int>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(ids[i]);
    if (j > i) out += '-' + std::to_string(ids[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace flotilla
