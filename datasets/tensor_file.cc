#include "datasets/tensor_file.h"

#include <c10/util/irange.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

#include "datasets/file_bytes.h"
#include "datasets/torch_errors.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;

// torch.save's zip archive starts with a local file header; the legacy format (before torch 1.6,
// or _use_new_zipfile_serialization=False) starts with a pickle of a magic number instead.
bool is_zip(const std::vector<char>& bytes) { return bytes.size() >= 4 && std::memcmp(bytes.data(), "PK\3\4", 4) == 0; }
bool is_pickle(const std::vector<char>& bytes) {
  return !bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x80;
}

// c10 messages can run to many lines (with a C++ stack in some builds); the first says what failed.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string shape_string(at::IntArrayRef sizes) {
  std::string out = "[";
  for (size_t i = 0; i < sizes.size(); ++i) out += (i ? ", " : "") + std::to_string(sizes[i]);
  return out + "]";
}

std::string describe(const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    return "a " + std::string(c10::toString(t.scalar_type())) + " tensor of shape " + shape_string(t.sizes());
  }
  return "a " + std::string(v.tagKind());
}

StatusOr<int64_t> num_classes_of(const std::string& name, const c10::IValue& v) {
  int64_t n = 0;
  if (v.isInt()) {
    n = v.toInt();
  } else if (v.isTensor() && v.toTensor().dim() == 0 &&
             c10::isIntegralType(v.toTensor().scalar_type(), /*includeBool=*/false)) {
    n = v.toTensor().item<int64_t>();
  } else {
    return invalid_argument_error(name + ": \"num_classes\" must be an int or a 0-dim integer tensor, not " +
                                  describe(v));
  }
  if (n < 1 || n > kMaxNumClasses) {
    return invalid_argument_error(name + ": \"num_classes\" is " + std::to_string(n) + ", not in 1.." +
                                  std::to_string(kMaxNumClasses));
  }
  return n;
}

// x as the dataset keeps it: uint8 or float32, contiguous, on the CPU, not requiring grad.
StatusOr<at::Tensor> features_of(const std::string& name, const c10::IValue& v) {
  if (!v.isTensor()) return invalid_argument_error(name + ": \"x\" must be a tensor, not " + describe(v));
  at::Tensor x = v.toTensor().detach().cpu();
  const at::ScalarType type = x.scalar_type();
  const bool is_float = type == at::kHalf || type == at::kBFloat16 || type == at::kFloat || type == at::kDouble;
  if (type != at::kByte && !is_float) {
    return invalid_argument_error(name + ": \"x\" has dtype " + c10::toString(type) +
                                  "; expected uint8 or float16/32/64");
  }
  if (x.dim() < 2) {
    return invalid_argument_error(name + ": \"x\" has shape " + shape_string(x.sizes()) +
                                  "; expected rank >= 2: [N, features] or [N, C, H, W]");
  }
  if (x.size(0) == 0) return invalid_argument_error(name + ": \"x\" holds no samples");
  // The MNIST reader's shape: a channel dimension, so that models and normalize see [N, C, H, W].
  if (type == at::kByte && x.dim() == 3) x = x.unsqueeze(1);
  x = x.to(type == at::kByte ? at::kByte : at::kFloat).contiguous();
  if (is_float) {
    // After the cast: a float64 beyond float32's range has become inf, which training cannot use
    // either. One pass over the data, no temporary tensor.
    const int64_t n = x.size(0), per_sample = x.numel() / n;
    const float* p = x.data_ptr<float>();
    for (const int64_t i : c10::irange(n)) {
      for (const int64_t j : c10::irange(per_sample)) {
        if (!std::isfinite(p[i * per_sample + j])) {
          return invalid_argument_error(name + ": \"x\" of sample " + std::to_string(i) + " holds " +
                                        std::to_string(p[i * per_sample + j]) +
                                        " (NaN or infinite, perhaps out of float32 range)");
        }
      }
    }
  }
  return x;
}

StatusOr<at::Tensor> labels_of(const std::string& name, const c10::IValue& v) {
  if (!v.isTensor()) return invalid_argument_error(name + ": \"y\" must be a tensor, not " + describe(v));
  const at::Tensor y = v.toTensor().detach().cpu();
  if (!c10::isIntegralType(y.scalar_type(), /*includeBool=*/false)) {
    return invalid_argument_error(name + ": \"y\" has dtype " + c10::toString(y.scalar_type()) +
                                  "; expected an integer dtype (class indices)");
  }
  if (y.dim() != 1) {
    return invalid_argument_error(name + ": \"y\" has shape " + shape_string(y.sizes()) +
                                  "; expected [N] (y.flatten() makes an [N, 1] tensor that)");
  }
  return y.to(at::kLong).contiguous();
}

// num_classes: the file's, or max label + 1 (at least 2); every label checked against it.
StatusOr<int64_t> check_labels(const std::string& name, const at::Tensor& y, std::optional<int64_t> declared) {
  const int64_t* p = y.data_ptr<int64_t>();
  const int64_t limit = declared.value_or(kMaxNumClasses);
  int64_t max_label = 0;
  for (const int64_t i : c10::irange(y.size(0))) {
    if (p[i] < 0 || p[i] >= limit) {
      return invalid_argument_error(
          name + ": label " + std::to_string(p[i]) + " of sample " + std::to_string(i) +
          (p[i] < 0 ? " is negative" : " is not below num_classes = " + std::to_string(limit)) +
          (declared || p[i] < 0 ? "" : " (the most classes a dataset may have)"));
    }
    max_label = std::max(max_label, p[i]);
  }
  return declared.value_or(std::max<int64_t>(max_label + 1, 2));
}

Status unreadable(const std::string& name, const std::string& why) {
  // LibTorch's unpickler knows tensors and plain Python values, not numpy's classes.
  const std::string hint = why.find("numpy") == std::string::npos
                               ? ""
                               : " (numpy arrays cannot be read: save torch tensors, e.g. torch.from_numpy(a))";
  return data_loss_error(name + ": not a readable torch.save file: " + why + hint);
}

StatusOr<TensorDataset> parse(const std::vector<char>& bytes, const std::string& name) {
  if (!is_zip(bytes)) {
    if (is_pickle(bytes)) {
      return data_loss_error(name +
                             ": not a torch.save zip file: it is torch's legacy format (torch < 1.6, or "
                             "_use_new_zipfile_serialization=False); save it again with a newer torch");
    }
    return data_loss_error(name + ": not a torch.save file (expected the zip archive torch.save writes since 1.6)");
  }
  c10::IValue value;
  // pickle_load, not a file-backed stream reader: it is the public API that reads torch.save's
  // format, stable across the Debian and PyPI LibTorch builds. The bytes are freed by the caller
  // once the tensors (which own copies of their records) are built.
  try {
    value = torch::jit::pickle_load(bytes);
  } catch (const c10::Error& e) {
    return unreadable(name, first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return unreadable(name, first_line(e.what()));
  }
  if (!value.isGenericDict()) {
    return data_loss_error(name + ": holds " + describe(value) +
                           ", not a dict; expected torch.save({\"x\": ..., \"y\": ...}, path)");
  }
  std::optional<c10::IValue> x, y, num_classes;
  std::string keys;
  for (const auto& entry : value.toGenericDict()) {
    const c10::IValue& key = entry.key();
    const std::string key_name = key.isString() ? key.toStringRef() : "<" + std::string(key.tagKind()) + ">";
    keys += (keys.empty() ? "\"" : ", \"") + key_name + "\"";
    if (!key.isString()) continue;
    if (key_name == "x") x = entry.value();
    if (key_name == "y") y = entry.value();
    if (key_name == "num_classes") num_classes = entry.value();
  }
  if (!x || !y) {
    return data_loss_error(name + ": the dict has no \"" + (x ? "y" : "x") + "\" key; its keys are " +
                           (keys.empty() ? "none" : keys) + " (expected \"x\", \"y\" and optionally \"num_classes\")");
  }
  TensorDataset d;
  ASSIGN_OR_RETURN(d.images, features_of(name, *x));
  ASSIGN_OR_RETURN(d.labels, labels_of(name, *y));
  if (d.images.size(0) != d.labels.size(0)) {
    return invalid_argument_error(name + ": \"x\" holds " + std::to_string(d.images.size(0)) + " samples but \"y\" " +
                                  std::to_string(d.labels.size(0)) + " labels");
  }
  std::optional<int64_t> declared;
  if (num_classes) {
    ASSIGN_OR_RETURN(declared, num_classes_of(name, *num_classes));
  }
  ASSIGN_OR_RETURN(d.num_classes, check_labels(name, d.labels, declared));
  return d;
}

// A tensor the pickler writes compactly: it writes a tensor's whole storage, so a view of a larger
// dataset is copied out first.
at::Tensor compact(const at::Tensor& t) {
  at::Tensor c = t.detach().cpu().contiguous();
  if (c.storage_offset() != 0 || c.storage().nbytes() != c.nbytes()) c = c.clone();
  return c;
}

}  // namespace

StatusOr<TensorDataset> read_tensor_file(const std::string& path) {
  ASSIGN_OR_RETURN(std::string file, read_file_bytes(path));
  // pickle_load takes a vector; the file's string goes as soon as it is copied.
  std::vector<char> bytes(file.begin(), file.end());
  std::string().swap(file);
  return status_from_exceptions("reading " + path, [&] { return parse(bytes, path); });
}

StatusOr<TensorDataset> parse_tensor_file(const std::vector<char>& bytes, const std::string& name) {
  return status_from_exceptions("reading " + name, [&] { return parse(bytes, name); });
}

Status write_tensor_file(const std::string& path, const at::Tensor& x, const at::Tensor& y, int64_t num_classes) {
  if (!x.defined() || !y.defined()) return invalid_argument_error("write_tensor_file " + path + ": undefined tensor");
  return status_from_exceptions("writing " + path, [&]() -> Status {
    // Values of two types (tensors, an int): a dict of IValues, which torch.load reads as a dict.
    c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
    dict.insert("x", compact(x));
    dict.insert("y", compact(y));
    if (num_classes > 0) dict.insert("num_classes", num_classes);
    const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
    // Unique per process and call, so concurrent writers of one path never share a temporary.
    static std::atomic<uint64_t> counter{0};
    const std::string temp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(temp.c_str(), "wb"));
    if (!f) return unavailable_error("cannot write " + temp + ": " + std::strerror(errno));
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size() &&
                         std::fflush(f.get()) == 0 && ::fsync(::fileno(f.get())) == 0;
    const int write_errno = errno;
    if (std::fclose(f.release()) != 0 || !written) {
      std::error_code ec;
      fs::remove(temp, ec);
      return unavailable_error("cannot write " + temp + ": " + std::strerror(written ? errno : write_errno));
    }
    std::error_code ec;
    fs::rename(temp, path, ec);
    if (ec) {
      const std::string why = ec.message();
      fs::remove(temp, ec);
      return unavailable_error("cannot rename " + temp + " to " + path + ": " + why);
    }
    return Status();
  });
}

}  // namespace flotilla
