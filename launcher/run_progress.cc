#include "launcher/run_progress.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace flotilla {

StatusOr<RunProgress> parse_run_progress(std::string_view state_json) {
  const nlohmann::json j = nlohmann::json::parse(state_json, nullptr, /*allow_exceptions=*/false);
  const auto is_object = [](const nlohmann::json& v, const char* key) {
    return v.is_object() && v.contains(key) && v[key].is_object();
  };
  if (j.is_discarded() || !is_object(j, "run") || !is_object(j, "round") || !is_object(j, "counts"))
    return invalid_argument_error("not the live view's state (no run, round and counts objects)");
  const auto integer = [](const nlohmann::json& object, const char* key) {
    return object.contains(key) && object[key].is_number_integer() ? object[key].get<int>() : 0;
  };
  RunProgress p;
  const auto& run = j["run"];
  p.status = run.contains("status") && run["status"].is_string() ? run["status"].get<std::string>() : "";
  p.rounds = integer(run, "rounds");
  p.clients = integer(j["counts"], "clients");
  p.alive = integer(j["counts"], "alive");
  p.round = integer(j["round"], "number");
  p.sampled = integer(j["round"], "sampled");
  p.done = integer(j["round"], "done");
  if (j.contains("estimate") && j["estimate"].is_object() && j["estimate"].contains("left_seconds") &&
      j["estimate"]["left_seconds"].is_number())
    p.left_s = j["estimate"]["left_seconds"].get<double>();
  return p;
}

std::string short_duration(double seconds) {
  char buf[32];
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  if (seconds < 10) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    return buf;
  }
  const long s = std::lround(seconds);
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s % 3600 / 60);
  return buf;
}

std::string progress_text(const std::optional<RunProgress>& progress, double elapsed_s) {
  const std::string elapsed = "elapsed " + short_duration(elapsed_s);
  if (!progress || progress->status == "starting" || progress->status.empty()) return "starting  " + elapsed;
  const RunProgress& p = *progress;
  if (p.status == "waiting")
    return "waiting for clients " + std::to_string(p.alive) + "/" + std::to_string(p.clients) + "  " + elapsed;
  std::string text = "round " + std::to_string(p.round) + "/" + std::to_string(p.rounds);
  if (p.status == "training")
    text += "  clients " + std::to_string(p.done) + "/" + std::to_string(p.sampled) + " done";
  else
    text += "  " + p.status;
  text += "  " + elapsed;
  if (p.status == "training" && p.left_s) text += "  left ~" + short_duration(*p.left_s);
  return text;
}

}  // namespace flotilla
