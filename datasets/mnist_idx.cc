#include "datasets/mnist_idx.h"

#include <cstdio>
#include <filesystem>
#include <limits>
#include <vector>

#include "datasets/byte_tensor.h"
#include "datasets/file_bytes.h"
#include "datasets/torch_errors.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte data, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte data, 1 dimension

// Pixel statistics of each training set, the values the usual reference code normalises with.
struct Normalization {
  const char* name;
  double mean;
  double std;
};
constexpr Normalization kMnist{"mnist", 0.1307, 0.3081};
constexpr Normalization kFashionMnist{"fashion-mnist", 0.2860, 0.3530};

uint32_t read_big_endian(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + offset;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void append_big_endian(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Checks the magic number and that the file is exactly header + prod(dims) bytes; returns dims.
StatusOr<std::vector<int64_t>> parse_header(const std::string& path, const std::string& bytes, uint32_t magic,
                                            int rank) {
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < header) {
    return data_loss_error(path + ": truncated: " + std::to_string(bytes.size()) + " bytes, less than the " +
                           std::to_string(header) + "-byte IDX header");
  }
  const uint32_t found = read_big_endian(bytes, 0);
  if (found != magic)
    return data_loss_error(path + ": bad magic number " + hex32(found) + " (expected " + hex32(magic) + ")");
  std::vector<int64_t> dims;
  // Torch keeps sizes and strides in int64, and a stride multiplies the later dimensions even when
  // an earlier one is 0: so the non-zero dimensions' product must fit in int64 although a zero
  // makes the payload empty (a 16-byte file may declare 0 x 2^32-1 x 2^32-1 images).
  uint64_t extent = 1;  // product of the non-zero dimensions, up to 2^63 - 1
  bool overflow = false;
  bool empty = false;
  std::string declared;  // "a x b x c", for the message
  for (int d = 0; d < rank; ++d) {
    const uint32_t n = read_big_endian(bytes, 4 + 4 * static_cast<size_t>(d));
    dims.push_back(n);
    declared += (d ? " x " : "") + std::to_string(n);
    if (n == 0) {
      empty = true;
    } else if (extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / n) {
      overflow = true;
    } else {
      extent *= n;
    }
  }
  if (overflow) {
    return data_loss_error(path + ": header declares dimensions " + declared +
                           ", whose product exceeds 2^63 (no IDX file can hold that)");
  }
  const uint64_t expected = (empty ? 0 : extent) + header;
  if (bytes.size() < expected) {
    return data_loss_error(path + ": truncated: header declares " + std::to_string(expected) + " bytes, file has " +
                           std::to_string(bytes.size()));
  }
  if (bytes.size() > expected) {
    return data_loss_error(path + ": trailing data: header declares " + std::to_string(expected) + " bytes, file has " +
                           std::to_string(bytes.size()));
  }
  return dims;
}

// DIR/stem if it exists, else DIR/stem.gz: the raw file wins, as after a `gunzip` in place.
StatusOr<std::string> find_file(const std::string& dir, const std::string& stem) {
  std::error_code ec;
  for (const std::string& name : {stem, stem + ".gz"}) {
    const std::string path = (fs::path(dir) / name).string();
    if (fs::exists(path, ec)) return path;
  }
  return not_found_error((fs::path(dir) / stem).string() + ": no such file (tried " + stem + " and " + stem +
                         ".gz in " + dir + "; scripts/download-data.sh fetches the official files)");
}

StatusOr<TensorDataset> load_split(const std::string& dir, const std::string& prefix, const Normalization& norm) {
  ASSIGN_OR_RETURN(const std::string images_path, find_file(dir, prefix + "-images-idx3-ubyte"));
  ASSIGN_OR_RETURN(const std::string labels_path, find_file(dir, prefix + "-labels-idx1-ubyte"));
  ASSIGN_OR_RETURN(const at::Tensor images, read_idx_images(images_path));
  ASSIGN_OR_RETURN(at::Tensor labels, read_idx_labels(labels_path));
  if (images.size(0) != labels.size(0)) {
    return data_loss_error(images_path + " holds " + std::to_string(images.size(0)) + " images but " + labels_path +
                           " holds " + std::to_string(labels.size(0)) + " labels");
  }
  TensorDataset d;
  // Raw bytes (a view of the file's buffer); normalize() turns batches into model input.
  d.images = images.unsqueeze(1);
  d.mean = {norm.mean};
  d.std = {norm.std};
  d.labels = std::move(labels);
  d.num_classes = 10;
  return d;
}

std::vector<std::string> mnist_class_names(const Normalization& norm) {
  if (std::string(norm.name) == kFashionMnist.name) {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  }
  return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
}

Status check_writable(const at::Tensor& t, int rank, const char* what) {
  if (!t.defined() || t.dim() != rank) {
    return invalid_argument_error(std::string(what) + " must be a " + std::to_string(rank) + "-d tensor");
  }
  for (int64_t d : t.sizes()) {
    if (d > std::numeric_limits<uint32_t>::max())
      return invalid_argument_error(std::string(what) + " too large for IDX");
  }
  return Status();
}

Status write_idx(const std::string& path, uint32_t magic, const at::Tensor& bytes_tensor, bool gzip) {
  const at::Tensor t = bytes_tensor.cpu().contiguous();
  std::string bytes;
  bytes.reserve(4 + 4 * static_cast<size_t>(t.dim()) + static_cast<size_t>(t.numel()));
  append_big_endian(bytes, magic);
  for (int64_t d : t.sizes()) append_big_endian(bytes, static_cast<uint32_t>(d));
  bytes.append(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()));
  return write_file_bytes(path, bytes, gzip);
}

}  // namespace

StatusOr<at::Tensor> read_idx_images(const std::string& path) {
  return status_from_exceptions("reading " + path, [&]() -> StatusOr<at::Tensor> {
    ASSIGN_OR_RETURN(std::string bytes, read_file_bytes(path));
    return parse_idx_images(std::move(bytes), path);
  });
}

StatusOr<at::Tensor> read_idx_labels(const std::string& path) {
  return status_from_exceptions("reading " + path, [&]() -> StatusOr<at::Tensor> {
    ASSIGN_OR_RETURN(std::string bytes, read_file_bytes(path));
    return parse_idx_labels(std::move(bytes), path);
  });
}

StatusOr<at::Tensor> parse_idx_images(std::string bytes, const std::string& name) {
  return status_from_exceptions("reading " + name, [&]() -> StatusOr<at::Tensor> {
    ASSIGN_OR_RETURN(const std::vector<int64_t> dims, parse_header(name, bytes, kImagesMagic, 3));
    return byte_tensor(std::move(bytes), 16, dims);
  });
}

StatusOr<at::Tensor> parse_idx_labels(std::string bytes, const std::string& name) {
  return status_from_exceptions("reading " + name, [&]() -> StatusOr<at::Tensor> {
    ASSIGN_OR_RETURN(const std::vector<int64_t> dims, parse_header(name, bytes, kLabelsMagic, 1));
    for (size_t i = 8; i < bytes.size(); ++i) {
      const unsigned label = static_cast<unsigned char>(bytes[i]);
      if (label > 9) {
        return data_loss_error(name + ": label " + std::to_string(label) + " of sample " + std::to_string(i - 8) +
                               " is not in 0..9");
      }
    }
    return byte_tensor(std::move(bytes), 8, dims).to(at::kLong);
  });
}

StatusOr<DatasetSplits> load_mnist_dir(const std::string& dir, const std::string& name) {
  const Normalization* norm = name == "mnist"                                      ? &kMnist
                              : name == "fashion-mnist" || name == "fashion_mnist" ? &kFashionMnist
                                                                                   : nullptr;
  if (norm == nullptr) return invalid_argument_error("load_mnist_dir: '" + name + "' is not mnist or fashion-mnist");
  return status_from_exceptions("loading " + name + " from " + dir, [&]() -> StatusOr<DatasetSplits> {
    DatasetSplits s;
    s.name = norm->name;
    ASSIGN_OR_RETURN(s.train, load_split(dir, "train", *norm));
    ASSIGN_OR_RETURN(s.test, load_split(dir, "t10k", *norm));
    // A model is built for one input size, so both splits must share it.
    if (s.train.images.sizes().slice(1) != s.test.images.sizes().slice(1)) {
      return data_loss_error(dir + ": train images are " + std::to_string(s.height()) + "x" +
                             std::to_string(s.width()) + " but t10k images are " +
                             std::to_string(s.test.images.size(2)) + "x" + std::to_string(s.test.images.size(3)));
    }
    s.class_names = mnist_class_names(*norm);
    return s;
  });
}

Status write_idx_images(const std::string& path, const at::Tensor& images, bool gzip) {
  RETURN_IF_ERROR(check_writable(images, 3, "IDX images"));
  if (images.scalar_type() != at::kByte) return invalid_argument_error("IDX images must be uint8");
  return status_from_exceptions("writing " + path, [&] { return write_idx(path, kImagesMagic, images, gzip); });
}

Status write_idx_labels(const std::string& path, const at::Tensor& labels, bool gzip) {
  RETURN_IF_ERROR(check_writable(labels, 1, "IDX labels"));
  if (!c10::isIntegralType(labels.scalar_type(), /*includeBool=*/false)) {
    return invalid_argument_error("IDX labels must be integers");
  }
  return status_from_exceptions("writing " + path, [&]() -> Status {
    if (labels.numel() > 0 && (labels.min().item<int64_t>() < 0 || labels.max().item<int64_t>() > 255)) {
      return invalid_argument_error("IDX labels must be in 0..255");
    }
    return write_idx(path, kLabelsMagic, labels.to(at::kByte), gzip);
  });
}

}  // namespace flotilla
