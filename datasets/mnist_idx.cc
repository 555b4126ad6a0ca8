#include "datasets/mnist_idx.h"

#include <ATen/ATen.h>

#include <cstring>
#include <filesystem>

#include "datasets/file_bytes.h"

namespace flotilla {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

uint32_t big_endian(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + offset;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void put_big_endian(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// Parses the header (magic + dims) and checks the payload size; returns the dims.
StatusOr<std::vector<int64_t>> parse_header(const std::string& path, const std::string& bytes, uint32_t magic,
                                            int dims) {
  const size_t header = 4 + 4 * static_cast<size_t>(dims);
  if (bytes.size() < header)
    return data_loss_error(path + ": file is truncated (" + std::to_string(bytes.size()) + " bytes, no full header)");
  const uint32_t found = big_endian(bytes, 0);
  if (found != magic) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ": bad magic number 0x%08x (expected 0x%08x)", found, magic);
    return data_loss_error(path + buf);
  }
  std::vector<int64_t> shape;
  uint64_t expected = header;
  uint64_t count = 1;
  for (int d = 0; d < dims; ++d) {
    shape.push_back(big_endian(bytes, 4 + 4 * static_cast<size_t>(d)));
    count *= static_cast<uint64_t>(shape.back());
  }
  expected += count;
  if (bytes.size() != expected) {
    return data_loss_error(path + ": header declares " + std::to_string(expected) + " bytes, file has " +
                           std::to_string(bytes.size()) + (bytes.size() < expected ? " (truncated)" : " (trailing data)"));
  }
  return shape;
}

// The first of DIR/stem and DIR/stem.gz that exists.
StatusOr<std::string> find_file(const std::string& dir, const std::string& stem) {
  for (const std::string& name : {stem, stem + ".gz"}) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    if (std::filesystem::exists(path)) return path;
  }
  return not_found_error("missing " + (std::filesystem::path(dir) / stem).string() + " (tried " + stem + " and " +
                         stem + ".gz; scripts/download-data.sh fetches the official files)");
}

StatusOr<TensorDataset> load_split(const std::string& dir, const std::string& prefix, double mean, double std) {
  ASSIGN_OR_RETURN(std::string images_path, find_file(dir, prefix + "-images-idx3-ubyte"));
  ASSIGN_OR_RETURN(std::string labels_path, find_file(dir, prefix + "-labels-idx1-ubyte"));
  ASSIGN_OR_RETURN(at::Tensor images, read_idx_images(images_path));
  ASSIGN_OR_RETURN(at::Tensor labels, read_idx_labels(labels_path));
  if (images.size(0) != labels.size(0)) {
    return data_loss_error(images_path + " holds " + std::to_string(images.size(0)) + " images but " + labels_path +
                           " holds " + std::to_string(labels.size(0)) + " labels");
  }
  TensorDataset d;
  d.images = images.unsqueeze(1).to(at::kFloat).div_(255.0).sub_(mean).div_(std);
  d.labels = labels;
  d.num_classes = 10;
  return d;
}

}  // namespace

StatusOr<at::Tensor> read_idx_images(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, read_file_bytes(path));
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, parse_header(path, bytes, kImagesMagic, 3));
  at::Tensor t = at::empty(shape, at::kByte);
  std::memcpy(t.data_ptr(), bytes.data() + 16, static_cast<size_t>(t.numel()));
  return t;
}

StatusOr<at::Tensor> read_idx_labels(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, read_file_bytes(path));
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, parse_header(path, bytes, kLabelsMagic, 1));
  for (size_t i = 8; i < bytes.size(); ++i) {
    if (static_cast<unsigned char>(bytes[i]) > 9)
      return data_loss_error(path + ": label " + std::to_string(static_cast<unsigned char>(bytes[i])) + " of sample " +
                             std::to_string(i - 8) + " is not in 0..9");
  }
  at::Tensor t = at::empty(shape, at::kByte);
  std::memcpy(t.data_ptr(), bytes.data() + 8, static_cast<size_t>(t.numel()));
  return t.to(at::kLong);
}

StatusOr<DatasetSplits> load_mnist_dir(const std::string& dir, const std::string& name) {
  // Per-dataset pixel statistics of the training set.
  const bool fashion = name == "fashion-mnist";
  const double mean = fashion ? 0.2860 : 0.1307, std = fashion ? 0.3530 : 0.3081;
  DatasetSplits s;
  s.name = name;
  ASSIGN_OR_RETURN(s.train, load_split(dir, "train", mean, std));
  ASSIGN_OR_RETURN(s.test, load_split(dir, "t10k", mean, std));
  if (fashion) {
    s.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  } else {
    for (int c = 0; c < 10; ++c) s.class_names.push_back(std::to_string(c));
  }
  return s;
}

Status write_idx_images(const std::string& path, const at::Tensor& images, bool gzip) {
  const at::Tensor t = images.to(at::kByte).contiguous();
  std::string bytes;
  put_big_endian(bytes, kImagesMagic);
  for (int64_t d : t.sizes()) put_big_endian(bytes, static_cast<uint32_t>(d));
  bytes.append(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()));
  return write_file_bytes(path, bytes, gzip);
}

Status write_idx_labels(const std::string& path, const at::Tensor& labels, bool gzip) {
  const at::Tensor t = labels.to(at::kByte).contiguous();
  std::string bytes;
  put_big_endian(bytes, kLabelsMagic);
  put_big_endian(bytes, static_cast<uint32_t>(t.numel()));
  bytes.append(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()));
  return write_file_bytes(path, bytes, gzip);
}

}  // namespace flotilla
