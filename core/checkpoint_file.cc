#include "core/checkpoint_file.h"

#include <ATen/ATen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "core/atomic_file.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Tensor bytes are written as they lie in memory; the format says little-endian.
static_assert(std::endian::native == std::endian::little, "checkpoints are written on little-endian hosts only");

constexpr char kMagic[8] = {'F', 'L', 'O', 'T', 'C', 'K', 'P', 'T'};
constexpr size_t kPrefixSize = 8 + 4 + 8 + 8;  // magic, version, header size, data size
constexpr size_t kDigestSize = 32;
constexpr size_t kMaxRank = 64;  // far above any model's; bounds the work per shape
constexpr const char* kModelSection = "model";
constexpr const char* kStateSection = "aggregator_state";

struct DtypeName {
  const char* name;
  at::ScalarType type;
};

constexpr DtypeName kDtypes[] = {
    {"float32", at::kFloat},
    {"float64", at::kDouble},
    {"float16", at::kHalf},
    {"bfloat16", at::kBFloat16},
    {"int64", at::kLong},
    {"int32", at::kInt},
    {"int16", at::kShort},
    {"int8", at::kChar},
    {"uint8", at::kByte},
    {"bool", at::kBool},
    {"complex64", at::kComplexFloat},
    {"complex128", at::kComplexDouble},
};

const char* dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes)
    if (d.type == type) return d.name;
  return nullptr;
}

bool dtype_of(const std::string& name, at::ScalarType* type) {
  for (const auto& d : kDtypes) {
    if (name == d.name) {
      *type = d.type;
      return true;
    }
  }
  return false;
}

std::array<unsigned char, kDigestSize> sha256(std::string_view bytes) {
  std::array<unsigned char, kDigestSize> md{};
  unsigned int len = 0;
  FLOTILLA_CHECK(EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr) == 1 &&
                 len == kDigestSize)
      << "SHA-256";
  return md;
}

template <typename T>
void append_le(std::string& out, T value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));  // little-endian host (static_assert above)
  out.append(raw, sizeof(T));
}

template <typename T>
T read_le(std::string_view bytes, size_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

// nlohmann refuses to write invalid UTF-8 (it throws), and the header is JSON.
bool is_json_string(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

Status validate_section(const char* section, const ModelState& state) {
  std::set<std::string> names;
  for (const auto& e : state.entries()) {
    const std::string what = std::string(section) + " tensor '" + e.name + "'";
    if (!names.insert(e.name).second) return invalid_argument_error("duplicate " + what);
    if (!is_json_string(e.name)) return invalid_argument_error(section + std::string(" tensor name is not UTF-8"));
    if (!e.tensor.defined()) return invalid_argument_error(what + " is undefined");
    if (e.tensor.layout() != at::kStrided) return invalid_argument_error(what + " is not a dense tensor");
    if (!dtype_name(e.tensor.scalar_type())) {
      return invalid_argument_error(what + " has dtype " + std::string(c10::toString(e.tensor.scalar_type())) +
                                    ", which checkpoints do not store");
    }
  }
  return Status();
}

// Everything parse_checkpoint needs to check a tensor's entry before allocating anything.
struct TensorEntry {
  bool model = true;
  std::string name;
  at::ScalarType type = at::kFloat;
  std::vector<int64_t> shape;
  uint64_t offset = 0;
  uint64_t size = 0;
};

Status header_error(const std::string& message) { return data_loss_error("checkpoint header: " + message); }

// A JSON integer in [0, max], or an error naming `key`.
StatusOr<uint64_t> read_count(const json& object, const char* key, uint64_t max, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return header_error(where + "has no \"" + key + "\"");
  uint64_t value = 0;
  if (it->is_number_unsigned()) {
    value = it->get<uint64_t>();
  } else if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    if (v < 0) return header_error(where + "\"" + key + "\" is negative");
    value = static_cast<uint64_t>(v);
  } else {
    return header_error(where + "\"" + key + "\" is not an integer");
  }
  if (value > max) return header_error(where + "\"" + key + "\" is out of range");
  return value;
}

StatusOr<std::string> read_string(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return header_error(where + "has no \"" + key + "\"");
  if (!it->is_string()) return header_error(where + "\"" + key + "\" is not a string");
  return it->get<std::string>();
}

StatusOr<TensorEntry> read_tensor_entry(const json& t, size_t index, uint64_t data_size) {
  const std::string where = "tensor " + std::to_string(index) + " ";
  if (!t.is_object()) return header_error(where + "is not an object");
  TensorEntry e;
  ASSIGN_OR_RETURN(std::string section, read_string(t, "section", where));
  if (section != kModelSection && section != kStateSection)
    return header_error(where + "has unknown section \"" + section + "\"");
  e.model = section == kModelSection;
  ASSIGN_OR_RETURN(e.name, read_string(t, "name", where));
  const std::string what = where + "('" + e.name + "') ";
  ASSIGN_OR_RETURN(std::string dtype, read_string(t, "dtype", what));
  if (!dtype_of(dtype, &e.type)) return header_error(what + "has unknown dtype \"" + dtype + "\"");

  auto shape = t.find("shape");
  if (shape == t.end() || !shape->is_array()) return header_error(what + "has no \"shape\" array");
  if (shape->size() > kMaxRank) return header_error(what + "has " + std::to_string(shape->size()) + " dimensions");
  // numel, and the product of max(dim, 1) so that the strides torch computes cannot overflow either.
  int64_t numel = 1, span = 1;
  for (const json& d : *shape) {
    int64_t dim = 0;
    if (d.is_number_unsigned()) {
      if (d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return header_error(what + "has a dimension out of range");
      dim = static_cast<int64_t>(d.get<uint64_t>());
    } else if (d.is_number_integer()) {
      dim = d.get<int64_t>();
      if (dim < 0) return header_error(what + "has a negative dimension");
    } else {
      return header_error(what + "has a dimension that is not an integer");
    }
    if (__builtin_mul_overflow(numel, dim, &numel) || __builtin_mul_overflow(span, std::max<int64_t>(dim, 1), &span))
      return header_error(what + "has a shape whose element count overflows");
    e.shape.push_back(dim);
  }
  int64_t bytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<int64_t>(c10::elementSize(e.type)), &bytes))
    return header_error(what + "has a shape whose byte size overflows");

  ASSIGN_OR_RETURN(e.offset, read_count(t, "offset", data_size, what));
  ASSIGN_OR_RETURN(e.size, read_count(t, "size", data_size, what));
  if (e.size != static_cast<uint64_t>(bytes)) {
    return header_error(what + "has size " + std::to_string(e.size) + " but its dtype and shape need " +
                        std::to_string(bytes) + " bytes");
  }
  if (e.size > data_size - e.offset)  // offset <= data_size, checked by read_count
    return header_error(what + "runs past the end of the data");
  return e;
}

StatusOr<Checkpoint> parse_validated(std::string_view bytes) {
  if (bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return data_loss_error("not a Flotilla checkpoint (bad magic)");
  const size_t minimum = kPrefixSize + kDigestSize;
  if (bytes.size() < minimum) {
    return data_loss_error("checkpoint truncated: " + std::to_string(bytes.size()) + " bytes, even an empty one has " +
                           std::to_string(minimum));
  }
  const uint32_t version = read_le<uint32_t>(bytes, 8);
  if (version != kCheckpointFormatVersion) {
    return data_loss_error("checkpoint format version " + std::to_string(version) + "; this Flotilla reads version " +
                           std::to_string(kCheckpointFormatVersion));
  }
  const uint64_t header_size = read_le<uint64_t>(bytes, 12);
  const uint64_t data_size = read_le<uint64_t>(bytes, 20);
  // Each is at most the input's size, so the sum cannot overflow.
  const uint64_t available = bytes.size() - minimum;
  if (header_size > available || data_size > available - header_size) {
    return data_loss_error("checkpoint truncated or corrupt: its sizes say header " + std::to_string(header_size) +
                           " + data " + std::to_string(data_size) + " bytes, the file holds " +
                           std::to_string(available));
  }
  if (header_size + data_size != available) {
    return data_loss_error("checkpoint corrupt: " + std::to_string(available - header_size - data_size) +
                           " bytes more than its sizes say");
  }
  const size_t signed_size = bytes.size() - kDigestSize;
  const auto digest = sha256(bytes.substr(0, signed_size));
  if (CRYPTO_memcmp(digest.data(), bytes.data() + signed_size, kDigestSize) != 0)
    return data_loss_error("checkpoint checksum mismatch: the file is corrupt");

  const std::string_view header_text = bytes.substr(kPrefixSize, header_size);
  const json header = json::parse(header_text.begin(), header_text.end(), nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return header_error("not valid JSON");
  if (!header.is_object()) return header_error("not a JSON object");
  Checkpoint c;
  ASSIGN_OR_RETURN(uint64_t round, read_count(header, "round", std::numeric_limits<int>::max(), ""));
  c.round = static_cast<int>(round);
  ASSIGN_OR_RETURN(c.config_fingerprint, read_string(header, "config_fingerprint", ""));
  ASSIGN_OR_RETURN(c.aggregator, read_string(header, "aggregator", ""));
  ASSIGN_OR_RETURN(std::string byte_order, read_string(header, "byte_order", ""));
  if (byte_order != "little") return header_error("byte order \"" + byte_order + "\"; only \"little\" is read");
  auto list = header.find("tensors");
  if (list == header.end() || !list->is_array()) return header_error("has no \"tensors\" array");

  std::vector<TensorEntry> entries;
  std::set<std::string> model_names, state_names;
  for (size_t i = 0; i < list->size(); ++i) {
    ASSIGN_OR_RETURN(TensorEntry e, read_tensor_entry((*list)[i], i, data_size));
    if (!(e.model ? model_names : state_names).insert(e.name).second) {
      return header_error("duplicate " + std::string(e.model ? kModelSection : kStateSection) + " tensor '" + e.name +
                          "'");
    }
    entries.push_back(std::move(e));
  }
  // No two tensors share bytes, so the tensors built below hold at most data_size bytes together.
  std::vector<const TensorEntry*> by_offset;
  for (const auto& e : entries)
    if (e.size > 0) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i - 1]->offset + by_offset[i - 1]->size > by_offset[i]->offset)
      return header_error("tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "' overlap");
  }

  const char* data = bytes.data() + kPrefixSize + header_size;
  for (const auto& e : entries) {
    const char* src = data + e.offset;
    if (e.type == at::kBool) {
      for (uint64_t k = 0; k < e.size; ++k) {
        if (src[k] != 0 && src[k] != 1) return header_error("bool tensor '" + e.name + "' holds a byte other than 0/1");
      }
    }
    at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.type));
    if (e.size > 0) std::memcpy(t.data_ptr(), src, e.size);
    (e.model ? c.model : c.aggregator_state).add(e.name, std::move(t));
  }
  return c;
}

}  // namespace

Status validate_checkpoint(const Checkpoint& c) {
  if (c.round < 0) return invalid_argument_error("checkpoint round " + std::to_string(c.round) + " is negative");
  if (!is_json_string(c.config_fingerprint)) return invalid_argument_error("config fingerprint is not UTF-8");
  if (!is_json_string(c.aggregator)) return invalid_argument_error("aggregator name is not UTF-8");
  RETURN_IF_ERROR(validate_section(kModelSection, c.model));
  return validate_section(kStateSection, c.aggregator_state);
}

namespace {

// Incremental SHA-256 (the file's digest is computed as its bytes go out).
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    FLOTILLA_CHECK(ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1) << "SHA-256 init";
  }
  void update(const void* data, size_t size) {
    if (size > 0) FLOTILLA_CHECK(EVP_DigestUpdate(ctx_.get(), data, size) == 1) << "SHA-256 update";
  }
  std::array<unsigned char, kDigestSize> digest() {
    std::array<unsigned char, kDigestSize> md{};
    unsigned int len = 0;
    FLOTILLA_CHECK(EVP_DigestFinal_ex(ctx_.get(), md.data(), &len) == 1 && len == kDigestSize) << "SHA-256 final";
    return md;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// The file's bytes, in order, through `write`: prefix, header, each tensor's bytes straight from
// the tensor (a CPU copy of one tensor at a time when it lives on a device or is strided), then
// the digest. Nothing holds the whole file. Precondition: validate_checkpoint is OK.
Status emit_checkpoint(const Checkpoint& c, const ByteWriter& write) {
  const std::pair<const char*, const ModelState*> sections[] = {{kModelSection, &c.model},
                                                                {kStateSection, &c.aggregator_state}};
  json list = json::array();
  uint64_t offset = 0;
  for (const auto& [section, state] : sections) {
    for (const auto& e : state->entries()) {
      const uint64_t size = static_cast<uint64_t>(e.tensor.numel()) * e.tensor.element_size();
      list.push_back({{"section", section},
                      {"name", e.name},
                      {"dtype", dtype_name(e.tensor.scalar_type())},
                      {"shape", e.tensor.sizes().vec()},
                      {"offset", offset},
                      {"size", size}});
      offset += size;
    }
  }
  const json header = {{"round", c.round},
                       {"config_fingerprint", c.config_fingerprint},
                       {"aggregator", c.aggregator},
                       {"byte_order", "little"},
                       {"tensors", std::move(list)}};
  const std::string header_text = header.dump();
  Sha256Stream sha;
  auto put = [&](const void* data, size_t size) {
    sha.update(data, size);
    return write(data, size);
  };
  std::string prefix;
  prefix.append(kMagic, sizeof kMagic);
  append_le<uint32_t>(prefix, kCheckpointFormatVersion);
  append_le<uint64_t>(prefix, header_text.size());
  append_le<uint64_t>(prefix, offset);
  RETURN_IF_ERROR(put(prefix.data(), prefix.size()));
  RETURN_IF_ERROR(put(header_text.data(), header_text.size()));
  for (const auto& [section, state] : sections) {
    for (const auto& e : state->entries()) {
      const at::Tensor t = e.tensor.detach().to(at::kCPU).contiguous();
      RETURN_IF_ERROR(put(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size()));
    }
  }
  const auto digest = sha.digest();
  return write(digest.data(), digest.size());
}

}  // namespace

std::string serialize_checkpoint(const Checkpoint& c) {
  const Status valid = validate_checkpoint(c);
  FLOTILLA_CHECK(valid.ok()) << "serialize_checkpoint: " << valid;
  std::string out;
  out.reserve(static_cast<size_t>(c.model.byte_size() + c.aggregator_state.byte_size()) + 4096);
  const Status emitted = emit_checkpoint(c, [&out](const void* data, size_t size) {
    out.append(static_cast<const char*>(data), size);
    return Status();
  });
  FLOTILLA_CHECK(emitted.ok()) << "serialize_checkpoint: " << emitted;
  return out;
}

StatusOr<Checkpoint> parse_checkpoint(std::string_view bytes) {
  try {
    return parse_validated(bytes);
  } catch (const std::exception& e) {  // c10::Error (allocation), nlohmann: not expected after the checks
    return data_loss_error(std::string("checkpoint unreadable: ") + e.what());
  }
}

Status write_checkpoint_file(const Checkpoint& checkpoint, const std::string& path) {
  RETURN_IF_ERROR(validate_checkpoint(checkpoint));
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) return unavailable_error("cannot create " + parent.string() + ": " + ec.message());
  }
  try {
    // Streamed: a checkpoint string would hold another model's worth in memory.
    return write_file_atomically(path, [&](const ByteWriter& write) { return emit_checkpoint(checkpoint, write); });
  } catch (const std::exception& e) {  // c10::Error copying a tensor to the CPU
    return internal_error("writing checkpoint " + path + ": " + e.what());
  }
}

StatusOr<Checkpoint> read_checkpoint_file(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, read_whole_file(path));
  auto parsed = parse_checkpoint(bytes);
  if (!parsed.ok()) return parsed.status().with_context(path);
  return parsed;
}

}  // namespace flotilla
