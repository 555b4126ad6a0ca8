#include "collective/zmq_peer_transport.h"

#include <algorithm>
#include <set>
#include <utility>

#include "collective/little_endian.h"
#include "core/log.h"
#include "transport/allowlist.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

constexpr uint32_t kMagic = 0x31434c46;  // "FLC1" read little-endian

std::string rank_name(int rank) { return "rank-" + std::to_string(rank); }

Status check_peers(int rank, const std::vector<PeerInfo>& peers, const ZmqPeerOptions& options) {
  if (peers.empty()) return invalid_argument_error("the peer list is empty");
  const int n = static_cast<int>(peers.size());
  std::vector<bool> seen(n, false);
  std::set<std::string> endpoints;
  for (const PeerInfo& peer : peers) {
    if (peer.rank < 0 || peer.rank >= n) {
      return invalid_argument_error("peer rank " + std::to_string(peer.rank) + " is outside [0, " + std::to_string(n) +
                                    ")");
    }
    if (seen[peer.rank]) return invalid_argument_error("rank " + std::to_string(peer.rank) + " is listed twice");
    seen[peer.rank] = true;
    if (peer.endpoint.empty()) return invalid_argument_error("rank " + std::to_string(peer.rank) + " has no endpoint");
    if (!endpoints.insert(peer.endpoint).second) {
      return invalid_argument_error("endpoint " + peer.endpoint + " is listed twice");
    }
    if (!options.keys.secret_key.empty()) {
      RETURN_IF_ERROR(check_curve_key(peer.public_key, "public key of rank " + std::to_string(peer.rank)));
    }
  }
  if (rank < 0 || rank >= n) return invalid_argument_error("rank " + std::to_string(rank) + " is not in the group");
  if (options.max_message_bytes <= 0) return invalid_argument_error("max_message_bytes must be > 0");
  if (options.max_message_frames <= 0) return invalid_argument_error("max_message_frames must be > 0");
  if (!options.keys.secret_key.empty() || !options.keys.public_key.empty()) {
    RETURN_IF_ERROR(check_curve_key_pair(options.keys, "key pair of rank " + std::to_string(rank)));
  }
  return Status();
}

}  // namespace

StatusOr<std::unique_ptr<ZmqPeerTransport>> ZmqPeerTransport::create(int rank, std::vector<PeerInfo> peers,
                                                                     const ZmqPeerOptions& options) {
  RETURN_IF_ERROR(check_peers(rank, peers, options));
  std::sort(peers.begin(), peers.end(), [](const PeerInfo& a, const PeerInfo& b) { return a.rank < b.rank; });
  const bool curve = !options.keys.secret_key.empty();
  if (curve && peers[rank].public_key != options.keys.public_key) {
    return invalid_argument_error("rank " + std::to_string(rank) +
                                  "'s public key in the peer list is not the public key of its key pair");
  }
  ZmqOptions server_options;
  server_options.linger_ms = options.linger_ms;
  // A frame may be the whole payload; the header is a frame of its own.
  server_options.max_frame_bytes = std::max<int64_t>(options.max_message_bytes, kHeaderBytes);
  server_options.max_message_frames = options.max_message_frames + 1;
  server_options.max_message_bytes = options.max_message_bytes + static_cast<int64_t>(kHeaderBytes);
  if (curve) {
    auto allowlist = std::make_shared<Allowlist>();
    for (const PeerInfo& peer : peers) {
      AllowedClient client{rank_name(peer.rank), peer.public_key, true, {}};
      RETURN_IF_ERROR(allowlist->check_addable(client).with_context("group allowlist"));
      allowlist->add(std::move(client));
    }
    server_options.security.server_secret_key = options.keys.secret_key;
    server_options.security.server_public_key = options.keys.public_key;
    server_options.security.allowlist = std::move(allowlist);
  }
  auto server = bind_server_channel(peers[rank].endpoint, server_options);
  if (!server.ok()) return server.status().with_context("rank " + std::to_string(rank) + " cannot bind");
  return std::unique_ptr<ZmqPeerTransport>(
      new ZmqPeerTransport(rank, std::move(peers), options, std::move(server).value()));
}

ZmqPeerTransport::ZmqPeerTransport(int rank, std::vector<PeerInfo> peers, const ZmqPeerOptions& options,
                                   std::unique_ptr<ServerChannel> server)
    : rank_(rank), peers_(std::move(peers)), options_(options), server_(std::move(server)) {
  const size_t n = peers_.size();
  clients_.resize(n);
  next_send_seq_.assign(n, 0);
  next_receive_seq_.assign(n, 0);
  pending_.resize(n);
  traffic_.bytes_sent_to.assign(n, 0);
  traffic_.bytes_received_from.assign(n, 0);
}

ZmqPeerTransport::~ZmqPeerTransport() = default;

std::string ZmqPeerTransport::endpoint() const { return server_->endpoint(); }

Status ZmqPeerTransport::send(int to_rank, Frames frames) {
  if (to_rank < 0 || to_rank >= size() || to_rank == rank_) {
    return invalid_argument_error("rank " + std::to_string(rank_) + " cannot send to rank " + std::to_string(to_rank));
  }
  if (frames.empty()) return invalid_argument_error("cannot send an empty message to rank " + std::to_string(to_rank));
  if (!clients_[to_rank]) {
    ZmqOptions client_options;
    client_options.linger_ms = options_.linger_ms;
    if (!options_.keys.secret_key.empty()) {
      client_options.security.server_public_key = peers_[to_rank].public_key;
      client_options.security.client_keys = options_.keys;
    }
    auto client = connect_client_channel(peers_[to_rank].endpoint, client_options);
    if (!client.ok()) return client.status().with_context("connecting to rank " + std::to_string(to_rank));
    clients_[to_rank] = std::move(client).value();
  }
  std::string header;
  header.reserve(kHeaderBytes);
  le::put(header, kMagic, 4);
  le::put(header, static_cast<uint32_t>(rank_), 4);
  le::put(header, next_send_seq_[to_rank], 8);
  frames.insert(frames.begin(), Frame::from_string(std::move(header)));
  const Status sent = clients_[to_rank]->send(frames);
  if (!sent.ok()) return sent.with_context("send to rank " + std::to_string(to_rank));
  ++next_send_seq_[to_rank];
  const int64_t bytes = clients_[to_rank]->wire_bytes(frames);
  traffic_.bytes_sent += bytes;
  traffic_.bytes_sent_to[to_rank] += bytes;
  ++traffic_.messages_sent;
  return Status();
}

std::string ZmqPeerTransport::describe_peer(const std::string& peer_id, const std::string& user_id) const {
  auto known = rank_of_peer_id_.find(peer_id);
  if (known != rank_of_peer_id_.end()) return "rank " + std::to_string(known->second);
  if (!user_id.empty()) return user_id;
  return "an unidentified peer";
}

Status ZmqPeerTransport::pump(std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::optional<Incoming> in, server_->receive(timeout));
  if (!in.has_value()) return Status();
  const std::string who = describe_peer(in->peer, in->user_id);
  if (!in->refused.ok()) {
    return invalid_argument_error("rank " + std::to_string(rank_) + " refused a message from " + who + ": " +
                                  in->refused.message());
  }
  if (in->frames.size() < 2 || in->frames[0].size() != kHeaderBytes || le::get(in->frames[0].view(), 0, 4) != kMagic) {
    return invalid_argument_error("rank " + std::to_string(rank_) + " got a message without a peer header from " + who);
  }
  const std::string_view header = in->frames[0].view();
  const int sender = static_cast<int>(static_cast<int32_t>(le::get(header, 4, 4)));
  const uint64_t seq = le::get(header, 8, 8);
  if (sender < 0 || sender >= size() || sender == rank_) {
    return invalid_argument_error("a message from " + who + " claims to come from rank " + std::to_string(sender));
  }
  if (!in->user_id.empty() && in->user_id != rank_name(sender)) {
    return permission_denied_error("a peer authenticated as " + in->user_id + " claims to be rank " +
                                   std::to_string(sender));
  }
  rank_of_peer_id_[in->peer] = sender;
  traffic_.bytes_received += in->wire_bytes;
  traffic_.bytes_received_from[sender] += in->wire_bytes;
  ++traffic_.messages_received;
  if (seq < next_receive_seq_[sender]) {
    FLOTILLA_LOG(Warning) << "rank " << rank_ << " dropped a duplicate message " << seq << " from rank " << sender;
    return Status();
  }
  if (seq > next_receive_seq_[sender]) {
    return data_loss_error("rank " + std::to_string(rank_) + " expected message " +
                           std::to_string(next_receive_seq_[sender]) + " from rank " + std::to_string(sender) +
                           " but got " + std::to_string(seq) + ": messages were lost");
  }
  ++next_receive_seq_[sender];
  in->frames.erase(in->frames.begin());
  pending_[sender].push_back(std::move(in->frames));
  return Status();
}

StatusOr<Frames> ZmqPeerTransport::receive(int from_rank, std::chrono::milliseconds timeout) {
  if (from_rank < 0 || from_rank >= size() || from_rank == rank_) {
    return invalid_argument_error("rank " + std::to_string(rank_) + " cannot receive from rank " +
                                  std::to_string(from_rank));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pending_[from_rank].empty()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return deadline_exceeded_error("rank " + std::to_string(rank_) + " got no message from rank " +
                                     std::to_string(from_rank) + " within " + std::to_string(timeout.count()) + " ms");
    }
    RETURN_IF_ERROR(pump(left));
  }
  Frames frames = std::move(pending_[from_rank].front());
  pending_[from_rank].pop_front();
  return frames;
}

}  // namespace flotilla
