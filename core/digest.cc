#include "core/digest.h"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>

#include "core/check.h"
#include "core/model_state.h"

namespace flotilla {
namespace {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    FLOTILLA_CHECK(ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1) << "SHA-256 init";
  }
  void update(const void* data, size_t size) {
    if (size) FLOTILLA_CHECK(EVP_DigestUpdate(ctx_.get(), data, size) == 1) << "SHA-256 update";
  }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    FLOTILLA_CHECK(EVP_DigestFinal_ex(ctx_.get(), md, &len) == 1) << "SHA-256 final";
    std::string out(len * 2, '0');
    for (unsigned i = 0; i < len; ++i) std::snprintf(&out[i * 2], 3, "%02x", md[i]);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

}  // namespace

std::string model_sha256(const ModelState& state) {
  Sha256 sha;
  for (const auto& e : state.entries()) {
    sha.update(e.name.data(), e.name.size() + 1);  // include the NUL as separator
    const auto dtype = static_cast<int8_t>(e.tensor.scalar_type());
    sha.update(&dtype, 1);
    for (int64_t d : e.tensor.sizes()) sha.update(&d, sizeof d);
    at::Tensor t = e.tensor.detach().to(at::kCPU).contiguous();
    sha.update(t.data_ptr(), t.numel() * t.element_size());
  }
  return sha.hex();
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.hex();
}

}  // namespace flotilla
