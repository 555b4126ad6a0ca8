#include "partitioners/partition_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/check.h"
#include "core/json_number.h"

namespace flotilla {
namespace {

using nlohmann::json;

std::string fixed(double v, int decimals) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Medians are whole or halves: "5" or "5.5", not "5.0000".
std::string short_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string emd_cell(double emd) { return std::isnan(emd) ? "-" : fixed(emd, 4); }

std::string summary_lines(const PartitionSummary& s) {
  std::ostringstream os;
  os << s.num_clients << " clients, " << s.num_classes << " classes, " << s.total_samples << " samples\n";
  os << "samples per client: min " << s.samples_min << ", median " << short_number(s.samples_median) << ", max "
     << s.samples_max << ", mean " << fixed(s.samples_mean, 1) << ", std " << fixed(s.samples_std, 1) << "\n";
  os << "classes per client: min " << s.classes_min << ", median " << short_number(s.classes_median) << ", max "
     << s.classes_max << ", mean " << fixed(s.classes_mean, 2) << "\n";
  os << "EMD to the global label distribution (0 = same proportions, 2 = disjoint): min " << fixed(s.emd_min, 4)
     << ", mean " << fixed(s.emd_mean, 4) << ", max " << fixed(s.emd_max, 4) << "\n";
  return os.str();
}

}  // namespace

std::string format_partition_report(const PartitionStats& stats, int max_rows) {
  FLOTILLA_CHECK(max_rows >= 0) << "max_rows " << max_rows;
  const size_t shown =
      max_rows == 0 ? stats.clients.size() : std::min(stats.clients.size(), static_cast<size_t>(max_rows));
  // Cells first, so every column can be as wide as its widest shown cell.
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"client"};
  for (int64_t c = 0; c < stats.summary.num_classes; ++c) header.push_back("c" + std::to_string(c));
  for (const char* name : {"total", "classes", "emd"}) header.push_back(name);
  rows.push_back(header);
  for (size_t k = 0; k < shown; ++k) {
    const ClientPartitionStats& client = stats.clients[k];
    std::vector<std::string> row = {std::to_string(k)};
    for (int64_t n : client.class_counts) row.push_back(std::to_string(n));
    row.push_back(std::to_string(client.total));
    row.push_back(std::to_string(client.num_classes_held));
    row.push_back(emd_cell(client.emd));
    rows.push_back(std::move(row));
  }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());

  std::ostringstream os;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i)
      os << (i == 0 ? "" : "  ") << std::setw(static_cast<int>(widths[i])) << row[i];
    os << "\n";
  }
  if (shown < stats.clients.size()) os << "... (" << stats.clients.size() - shown << " more)\n";
  os << summary_lines(stats.summary);
  return os.str();
}

std::string partition_csv(const PartitionStats& stats) {
  std::ostringstream csv;
  csv << "client_id";
  for (int64_t c = 0; c < stats.summary.num_classes; ++c) csv << ",class_" << c;
  csv << ",total,classes,emd\n";
  csv << std::setprecision(10);
  for (size_t k = 0; k < stats.clients.size(); ++k) {
    const ClientPartitionStats& client = stats.clients[k];
    csv << k;
    for (int64_t n : client.class_counts) csv << "," << n;
    csv << "," << client.total << "," << client.num_classes_held << ",";
    if (!std::isnan(client.emd)) csv << client.emd;
    csv << "\n";
  }
  return csv.str();
}

std::string partition_json(const PartitionStats& stats) {
  json clients = json::array();
  for (size_t k = 0; k < stats.clients.size(); ++k) {
    const ClientPartitionStats& client = stats.clients[k];
    clients.push_back({{"client_id", k},
                       {"class_counts", client.class_counts},
                       {"total", client.total},
                       {"classes", client.num_classes_held},
                       {"emd", json_number(client.emd)}});
  }
  const PartitionSummary& s = stats.summary;
  json summary = {
      {"num_clients", s.num_clients},
      {"num_classes", s.num_classes},
      {"total_samples", s.total_samples},
      {"global_class_counts", stats.global_class_counts},
      {"samples_per_client",
       {{"min", s.samples_min},
        {"median", s.samples_median},
        {"max", s.samples_max},
        {"mean", s.samples_mean},
        {"std", s.samples_std}}},
      {"classes_per_client",
       {{"min", s.classes_min}, {"median", s.classes_median}, {"max", s.classes_max}, {"mean", s.classes_mean}}},
      {"emd", {{"min", json_number(s.emd_min)}, {"mean", json_number(s.emd_mean)}, {"max", json_number(s.emd_max)}}}};
  return json{{"clients", clients}, {"summary", summary}}.dump(1) + "\n";
}

}  // namespace flotilla
