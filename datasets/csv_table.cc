#include "datasets/csv_table.h"

#include <ATen/ops/empty.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>

#include "datasets/file_bytes.h"
#include "datasets/torch_errors.h"

namespace flotilla {
namespace {

std::string_view trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

// Splits `line` at commas outside double quotes and calls on_field(index, text) for each field,
// trimmed and unquoted ("" inside quotes is one quote). Quoted fields are unescaped into
// `scratch`, so the views on_field sees live until the next field. Returns an error message for
// an unterminated quote or text after a closing one, else "".
template <typename OnField>
std::string for_each_field(std::string_view line, std::string& scratch, OnField&& on_field) {
  size_t pos = 0;
  for (size_t index = 0;; ++index) {
    std::string_view field;
    const size_t start = line.find_first_not_of(" \t", pos);
    if (start != std::string_view::npos && line[start] == '"') {
      scratch.clear();
      size_t i = start + 1;
      for (;; ++i) {
        if (i >= line.size()) return "unterminated quote in field " + std::to_string(index + 1);
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            scratch.push_back('"');
            ++i;
          } else {
            break;
          }
        } else {
          scratch.push_back(line[i]);
        }
      }
      pos = line.find_first_not_of(" \t", i + 1);
      if (pos != std::string_view::npos && line[pos] != ',') {
        return "text after the closing quote of field " + std::to_string(index + 1);
      }
      field = scratch;
    } else {
      pos = line.find(',', pos);
      field = trim(line.substr(start == std::string_view::npos ? line.size() : start,
                               pos == std::string_view::npos ? std::string_view::npos : pos - start));
    }
    on_field(index, field);
    if (pos == std::string_view::npos) return "";
    ++pos;  // past the comma
  }
}

// A whole cell as a double: from_chars, plus the leading '+' it does not take. result_out_of_range
// for a number beyond double's range, invalid_argument for anything else that is not a number.
std::errc parse_number(std::string_view text, double& value) {
  if (text.size() > 1 && text[0] == '+' && text[1] != '-') text.remove_prefix(1);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end != text.data() + text.size()) return std::errc::invalid_argument;
  if (ec == std::errc::result_out_of_range && end == text.data() + text.size()) {
    // from_chars reports underflow too; a value too small for a double is 0 to a float32 model.
    const double v = std::strtod(std::string(text).c_str(), nullptr);
    if (v == 0) {
      value = 0;
      return std::errc();
    }
  }
  return ec;
}

bool is_blank(std::string_view line) { return trim(line).empty(); }

class Parser {
 public:
  Parser(const std::string& name, const std::string& label_column) : name_(name), label_column_(label_column) {}

  StatusOr<TensorDataset> parse(std::string_view text, std::vector<std::string>* feature_columns) {
    // Spreadsheet exports often start with a UTF-8 byte order mark; it is not part of the first name.
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    int64_t line_number = 0;
    bool have_header = false;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF line ends
      pos = end + 1;
      ++line_number;
      if (is_blank(line)) continue;
      if (!have_header) {
        RETURN_IF_ERROR(header(line, line_number));
        have_header = true;
      } else {
        RETURN_IF_ERROR(row(line, line_number));
      }
    }
    if (!have_header) return invalid_argument_error(name_ + ": empty: no header row");
    if (labels_.empty()) return invalid_argument_error(name_ + ": no data rows after the header");
    TensorDataset d;
    const auto n = static_cast<int64_t>(labels_.size());
    const auto f = static_cast<int64_t>(columns_.size()) - 1;
    d.images = at::empty({n, f}, at::kFloat);
    std::memcpy(d.images.data_ptr<float>(), features_.data(), features_.size() * sizeof(float));
    d.labels = at::empty({n}, at::kLong);
    std::memcpy(d.labels.data_ptr<int64_t>(), labels_.data(), labels_.size() * sizeof(int64_t));
    d.num_classes = std::max<int64_t>(max_label_ + 1, 2);
    if (feature_columns != nullptr) {
      feature_columns->clear();
      for (size_t c = 0; c < columns_.size(); ++c)
        if (c != label_index_) feature_columns->push_back(columns_[c]);
    }
    return d;
  }

 private:
  std::string where(int64_t line) const { return name_ + ":" + std::to_string(line); }

  std::string column(size_t c) const { return "column \"" + columns_[c] + "\" (" + std::to_string(c + 1) + ")"; }

  Status header(std::string_view line, int64_t line_number) {
    const std::string error =
        for_each_field(line, scratch_, [&](size_t, std::string_view field) { columns_.emplace_back(field); });
    if (!error.empty()) return invalid_argument_error(where(line_number) + ": header: " + error);
    std::string listed;
    size_t found = 0;
    for (size_t c = 0; c < columns_.size(); ++c) {
      listed += (c ? ", \"" : "\"") + columns_[c] + "\"";
      if (columns_[c] == label_column_) {
        label_index_ = c;
        ++found;
      }
    }
    if (found == 0) {
      return invalid_argument_error(where(line_number) + ": no label column \"" + label_column_ +
                                    "\" in the header; its columns are " + listed);
    }
    if (found > 1) {
      return invalid_argument_error(where(line_number) + ": the label column \"" + label_column_ + "\" appears " +
                                    std::to_string(found) + " times in the header");
    }
    if (columns_.size() < 2) {
      return invalid_argument_error(where(line_number) + ": the header has only the label column \"" + label_column_ +
                                    "\"; there are no feature columns");
    }
    return Status();
  }

  Status row(std::string_view line, int64_t line_number) {
    Status status;
    size_t cells = 0;
    const size_t width = columns_.size();
    const std::string error = for_each_field(line, scratch_, [&](size_t c, std::string_view field) {
      cells = c + 1;
      if (!status.ok() || c >= width) return;
      status = cell(line_number, c, field);
    });
    if (!error.empty()) return invalid_argument_error(where(line_number) + ": " + error);
    if (cells != width) {
      return invalid_argument_error(where(line_number) + ": " + std::to_string(cells) + " cells, but the header has " +
                                    std::to_string(width) + " columns");
    }
    return status;
  }

  Status cell(int64_t line_number, size_t c, std::string_view field) {
    if (field.empty()) return invalid_argument_error(where(line_number) + ": " + column(c) + ": empty cell");
    double value = 0;
    if (const std::errc ec = parse_number(field, value); ec != std::errc()) {
      return invalid_argument_error(
          where(line_number) + ": " + column(c) + ": \"" + std::string(field) +
          (ec == std::errc::result_out_of_range ? "\" is out of range" : "\" is not a number"));
    }
    if (c == label_index_) {
      if (!std::isfinite(value) || value < 0 || value != std::floor(value) ||
          value >= static_cast<double>(kMaxNumClasses)) {
        return invalid_argument_error(where(line_number) + ": " + column(c) + ": label \"" + std::string(field) +
                                      "\" is not a class index (an integer in 0.." +
                                      std::to_string(kMaxNumClasses - 1) + ")");
      }
      const auto label = static_cast<int64_t>(value);
      labels_.push_back(label);
      max_label_ = std::max(max_label_, label);
      return Status();
    }
    const auto f = static_cast<float>(value);
    if (!std::isfinite(f)) {
      return invalid_argument_error(where(line_number) + ": " + column(c) + ": \"" + std::string(field) +
                                    "\" is NaN or infinite (or beyond float32's range)");
    }
    features_.push_back(f);
    return Status();
  }

  const std::string& name_;
  const std::string& label_column_;
  std::vector<std::string> columns_;
  size_t label_index_ = 0;
  std::vector<float> features_;  // row-major [N, F]
  std::vector<int64_t> labels_;
  int64_t max_label_ = 0;
  std::string scratch_;
};

}  // namespace

StatusOr<TensorDataset> read_csv_dataset(const std::string& path, const std::string& label_column,
                                         std::vector<std::string>* feature_columns) {
  return status_from_exceptions("reading " + path, [&]() -> StatusOr<TensorDataset> {
    ASSIGN_OR_RETURN(const std::string text, read_file_bytes(path));
    return parse_csv_dataset(text, path, label_column, feature_columns);
  });
}

StatusOr<TensorDataset> parse_csv_dataset(const std::string& text, const std::string& name,
                                          const std::string& label_column, std::vector<std::string>* feature_columns) {
  return status_from_exceptions("reading " + name, [&]() -> StatusOr<TensorDataset> {
    return Parser(name, label_column).parse(text, feature_columns);
  });
}

}  // namespace flotilla
