// Fuzzes the coordinator's checkpoint parser, flotilla::parse_checkpoint: a checkpoint file is
// read back on --resume and may be truncated by a crash mid-write or come from another build.
// Built only when core/checkpoint_file.h exists (tests/fuzz/CMakeLists.txt).
//
// Property: a checkpoint that parses serializes into bytes that parse again, with the same round,
// config fingerprint, aggregator name and tensor counts. A violation traps.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/checkpoint_file.h"
#include "fuzz_checks.h"

namespace {

using flotilla::fuzz::fail;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto first = flotilla::parse_checkpoint(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!first.ok()) return 0;

  const std::string again = flotilla::serialize_checkpoint(*first);
  const auto second = flotilla::parse_checkpoint(again);
  if (!second.ok()) fail("a parsed checkpoint serializes into bytes that do not parse:", second.status());
  if (second->round != first->round || second->config_fingerprint != first->config_fingerprint ||
      second->aggregator != first->aggregator)
    fail("the round trip changed the round, fingerprint or aggregator");
  if (second->model.size() != first->model.size() || second->aggregator_state.size() != first->aggregator_state.size())
    fail("the round trip changed the number of tensors");
  return 0;
}
