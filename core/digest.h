// SHA-256 (OpenSSL) of a model's bytes, so runs can be compared at a glance.
#pragma once

#include <string>
#include <string_view>

namespace flotilla {

class ModelState;

// Hex SHA-256 over every tensor's name, dtype, shape and raw bytes, in order.
std::string model_sha256(const ModelState& state);

// Hex SHA-256 of a byte string.
std::string sha256_hex(std::string_view bytes);

}  // namespace flotilla
