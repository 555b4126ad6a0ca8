#include "tools/data/leaf_convert.h"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "datasets/dataset.h"
#include "datasets/file_bytes.h"
#include "datasets/tensor_file.h"
#include "datasets/torch_errors.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// What the first pass learns about one user of one split.
struct SplitEntry {
  std::string file;  // the JSON file holding the user's data
  int64_t samples = 0;
  int64_t max_label = -1;
};

struct User {
  SplitEntry train, test;  // test.file is empty when the user has no test data
};

std::string user_context(const std::string& file, const std::string& user) { return file + ": user \"" + user + "\""; }

StatusOr<std::vector<std::string>> json_files(const std::string& dir, const std::string& split) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return not_found_error(dir + ": no such folder (LEAF's " + split + "/ folder)");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  if (ec) return unavailable_error(dir + ": cannot list: " + ec.message());
  if (files.empty()) return not_found_error(dir + ": no *.json files (expected LEAF's " + split + "/ folder)");
  std::sort(files.begin(), files.end());
  return files;
}

// The file's JSON; with `skip_x`, every user's "x" (nearly all of the bytes) is dropped while
// parsing, so the first pass holds names and labels only.
StatusOr<json> parse_file(const std::string& path, bool skip_x) {
  ASSIGN_OR_RETURN(const std::string text, read_file_bytes(path));
  // The depth of a key is the number of objects around it: 1 the root's keys, 2 user_data's user
  // names, 3 a user's "x" and "y". A dropped key's value is tokenised but never stored.
  const json::parser_callback_t drop_x = [](int depth, json::parse_event_t event, json& parsed) {
    return !(event == json::parse_event_t::key && depth == 3 && parsed == "x");
  };
  json root;
  try {
    root = json::parse(text, skip_x ? drop_x : nullptr);
  } catch (const json::exception& e) {
    return data_loss_error(path + ": not JSON: " + e.what());
  }
  if (!root.is_object() || !root.contains("user_data") || !root["user_data"].is_object()) {
    return data_loss_error(path + ": not a LEAF file: expected a JSON object with a \"user_data\" object");
  }
  return root;
}

StatusOr<std::vector<int64_t>> labels_of(const std::string& file, const std::string& user, const json& data) {
  if (!data.is_object() || !data.contains("y") || !data["y"].is_array()) {
    return data_loss_error(user_context(file, user) + " has no \"y\" array");
  }
  std::vector<int64_t> labels;
  labels.reserve(data["y"].size());
  for (const json& y : data["y"]) {
    const double v = y.is_number() ? y.get<double>() : -1;
    if (v < 0 || v != std::floor(v) || v >= static_cast<double>(kMaxNumClasses)) {
      return data_loss_error(user_context(file, user) + ": label " + y.dump() + " of sample " +
                             std::to_string(labels.size()) + " is not a class index");
    }
    labels.push_back(static_cast<int64_t>(v));
  }
  return labels;
}

// First pass over one split: each user's file, sample count and largest label.
Status index_split(const std::vector<std::string>& files, bool is_train, std::map<std::string, User>& users) {
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(const json root, parse_file(file, /*skip_x=*/true));
    for (const auto& [name, data] : root["user_data"].items()) {
      if (!is_train && users.count(name) == 0) continue;  // test-only users have nothing to train on
      SplitEntry& entry = is_train ? users[name].train : users[name].test;
      if (!entry.file.empty()) {
        return data_loss_error("user \"" + name + "\" appears in both " + entry.file + " and " + file + " (" +
                               (is_train ? "train" : "test") + " split)");
      }
      ASSIGN_OR_RETURN(const std::vector<int64_t> labels, labels_of(file, name, data));
      entry.file = file;
      entry.samples = static_cast<int64_t>(labels.size());
      for (int64_t l : labels) entry.max_label = std::max(entry.max_label, l);
    }
  }
  return Status();
}

// One user's samples as x [n, shape...] (uint8 or float32) and y int64 [n].
Status write_user(const std::string& file, const std::string& user, const json& data, const LeafConvertOptions& o,
                  int64_t num_classes, const std::string& out_path) {
  ASSIGN_OR_RETURN(const std::vector<int64_t> labels, labels_of(file, user, data));
  if (!data.contains("x") || !data["x"].is_array())
    return data_loss_error(user_context(file, user) + " has no \"x\" array");
  const json& rows = data["x"];
  const auto n = static_cast<int64_t>(rows.size());
  if (n != static_cast<int64_t>(labels.size())) {
    return data_loss_error(user_context(file, user) + " has " + std::to_string(n) + " x rows but " +
                           std::to_string(labels.size()) + " y labels");
  }
  int64_t per_sample = 1;
  std::string shape_text;
  std::vector<int64_t> sizes = {n};
  for (int64_t d : o.image_shape) {
    per_sample *= d;
    shape_text += (shape_text.empty() ? "" : "x") + std::to_string(d);
    sizes.push_back(d);
  }
  at::Tensor x = at::empty(sizes, o.uint8 ? at::kByte : at::kFloat);
  uint8_t* bytes = o.uint8 ? x.data_ptr<uint8_t>() : nullptr;
  float* floats = o.uint8 ? nullptr : x.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const json& row = rows[static_cast<size_t>(i)];
    const std::string sample = user_context(file, user) + ": sample " + std::to_string(i);
    if (!row.is_array() || static_cast<int64_t>(row.size()) != per_sample) {
      return invalid_argument_error(sample + " has " + (row.is_array() ? std::to_string(row.size()) : "no array of") +
                                    " values; expected " + std::to_string(per_sample) + " (shape " + shape_text + ")");
    }
    for (int64_t j = 0; j < per_sample; ++j) {
      const json& cell = row[static_cast<size_t>(j)];
      if (!cell.is_number())
        return invalid_argument_error(sample + ": value " + std::to_string(j) + " is not a number");
      const double v = cell.get<double>();
      if (!std::isfinite(v)) return invalid_argument_error(sample + ": value " + std::to_string(j) + " is not finite");
      if (floats != nullptr) {
        floats[i * per_sample + j] = static_cast<float>(v);
      } else if (v < 0 || v > 1) {
        return invalid_argument_error(sample + ": value " + cell.dump() +
                                      " is outside [0, 1], so it cannot be stored as a uint8 pixel (use float output)");
      } else {
        bytes[i * per_sample + j] = static_cast<uint8_t>(std::lround(v * 255.0));
      }
    }
  }
  at::Tensor y = at::empty({n}, at::kLong);
  std::copy(labels.begin(), labels.end(), y.data_ptr<int64_t>());
  return write_tensor_file(out_path, x, y, num_classes);
}

// Second pass over one split: the selected users' pixels, file by file.
Status convert_split(const std::map<std::string, std::vector<std::pair<int64_t, std::string>>>& by_file,
                     const LeafConvertOptions& o, int64_t num_classes, const char* out_name) {
  for (const auto& [file, clients] : by_file) {
    ASSIGN_OR_RETURN(const json root, parse_file(file, /*skip_x=*/false));
    const json& user_data = root["user_data"];
    for (const auto& [k, user] : clients) {
      if (!user_data.contains(user)) return data_loss_error(file + ": user \"" + user + "\" vanished between passes");
      const fs::path dir = fs::path(o.out_dir) / ("client_" + std::to_string(k));
      RETURN_IF_ERROR(write_user(file, user, user_data[user], o, num_classes, (dir / out_name).string()));
    }
  }
  return Status();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

Status check_options(const LeafConvertOptions& o) {
  if (o.train_dir.empty()) return invalid_argument_error("convert_leaf: train_dir is empty");
  if (o.out_dir.empty()) return invalid_argument_error("convert_leaf: out_dir is empty");
  if (o.max_users < 0) return invalid_argument_error("convert_leaf: max_users is negative");
  if (o.num_classes < 0 || o.num_classes > kMaxNumClasses) {
    return invalid_argument_error("convert_leaf: num_classes " + std::to_string(o.num_classes) + " is not in 0.." +
                                  std::to_string(kMaxNumClasses));
  }
  if (o.image_shape.empty()) return invalid_argument_error("convert_leaf: image shape is empty");
  int64_t elements = 1;
  for (int64_t d : o.image_shape) {
    if (d <= 0 || elements > std::numeric_limits<int32_t>::max() / d) {
      return invalid_argument_error("convert_leaf: image shape dimensions must be positive and small, not " +
                                    std::to_string(d));
    }
    elements *= d;
  }
  return Status();
}

// Earlier runs' client folders: a run with fewer users must not leave clients it did not write.
Status remove_old_clients(const std::string& out_dir) {
  static const std::regex kClientDir("client_[0-9]+");
  std::error_code ec;
  std::vector<fs::path> old;
  for (const auto& entry : fs::directory_iterator(out_dir, ec)) {
    if (entry.is_directory(ec) && std::regex_match(entry.path().filename().string(), kClientDir)) {
      old.push_back(entry.path());
    }
  }
  for (const fs::path& p : old) {
    fs::remove_all(p, ec);
    if (ec) return unavailable_error("cannot remove " + p.string() + ": " + ec.message());
  }
  return Status();
}

}  // namespace

Status convert_leaf(const LeafConvertOptions& options) {
  RETURN_IF_ERROR(check_options(options));
  return status_from_exceptions("converting LEAF data to " + options.out_dir, [&]() -> Status {
    ASSIGN_OR_RETURN(const std::vector<std::string> train_files, json_files(options.train_dir, "train"));
    std::vector<std::string> test_files;
    if (!options.test_dir.empty()) {
      ASSIGN_OR_RETURN(test_files, json_files(options.test_dir, "test"));
    }
    std::map<std::string, User> users;  // sorted by name: the order of client ids
    RETURN_IF_ERROR(index_split(train_files, /*is_train=*/true, users));
    RETURN_IF_ERROR(index_split(test_files, /*is_train=*/false, users));
    if (users.empty()) return data_loss_error(options.train_dir + ": the *.json files hold no users");

    std::vector<std::pair<std::string, const User*>> chosen;
    for (const auto& [name, user] : users) {
      if (options.max_users > 0 && static_cast<int64_t>(chosen.size()) == options.max_users) break;
      chosen.emplace_back(name, &user);
    }
    int64_t max_label = 0;
    std::string max_label_user;
    for (const auto& [name, user] : chosen) {
      for (const SplitEntry* e : {&user->train, &user->test}) {
        if (e->max_label > max_label) {
          max_label = e->max_label;
          max_label_user = name;
        }
      }
    }
    const int64_t num_classes = options.num_classes > 0 ? options.num_classes : std::max<int64_t>(max_label + 1, 2);
    if (max_label >= num_classes) {
      return invalid_argument_error("user \"" + max_label_user + "\" has label " + std::to_string(max_label) +
                                    ", not below num_classes = " + std::to_string(num_classes));
    }

    std::error_code ec;
    fs::create_directories(options.out_dir, ec);
    if (ec) return unavailable_error("cannot create " + options.out_dir + ": " + ec.message());
    RETURN_IF_ERROR(remove_old_clients(options.out_dir));
    std::map<std::string, std::vector<std::pair<int64_t, std::string>>> train_by_file, test_by_file;
    std::string table = "client_id,user,train_samples,test_samples\n";
    for (size_t k = 0; k < chosen.size(); ++k) {
      const auto& [name, user] = chosen[k];
      const auto id = static_cast<int64_t>(k);
      const fs::path dir = fs::path(options.out_dir) / ("client_" + std::to_string(id));
      fs::create_directories(dir, ec);
      if (ec) return unavailable_error("cannot create " + dir.string() + ": " + ec.message());
      train_by_file[user->train.file].emplace_back(id, name);
      if (!user->test.file.empty()) test_by_file[user->test.file].emplace_back(id, name);
      table += std::to_string(id) + "," + csv_field(name) + "," + std::to_string(user->train.samples) + "," +
               std::to_string(user->test.samples) + "\n";
    }
    RETURN_IF_ERROR(convert_split(train_by_file, options, num_classes, "train.pt"));
    RETURN_IF_ERROR(convert_split(test_by_file, options, num_classes, "test.pt"));
    return write_file_bytes((fs::path(options.out_dir) / "users.csv").string(), table, /*gzip=*/false);
  });
}

}  // namespace flotilla
