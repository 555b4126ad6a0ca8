// Secure aggregation's messages (secagg/protocol.h) to and from the protocol's plain values
// (msg::SecAggStep's fields), for the client and the coordinator alike.
#pragma once

#include <map>
#include <vector>

#include "core/status.h"
#include "protocol/messages.h"
#include "secagg/protocol.h"

namespace flotilla::secagg {

msg::SecAggKeys to_wire(const AdvertisedKeys& keys);
AdvertisedKeys from_wire(const msg::SecAggKeys& keys);
std::vector<AdvertisedKeys> from_wire(const std::vector<msg::SecAggKeys>& keys);

msg::SecAggSealed to_wire(const SealedShares& sealed);
std::vector<SealedShares> from_wire(const std::vector<msg::SecAggSealed>& sealed);

std::vector<msg::SecAggShare> to_wire(const std::map<int, Share>& shares);
// InvalidArgument when an owner appears twice.
StatusOr<std::map<int, Share>> from_wire(const std::vector<msg::SecAggShare>& shares);

}  // namespace flotilla::secagg
