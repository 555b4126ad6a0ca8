#include "rogue_client.h"

#include <gtest/gtest.h>

#include <chrono>

#include "protocol/codec.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla::testing {

using namespace std::chrono_literals;

RogueClient::RogueClient(const std::string& endpoint, int client_id, Answer answer) {
  auto channel = connect_client_channel(endpoint);
  EXPECT_TRUE(channel.ok()) << channel.status();
  if (!channel.ok()) return;
  msg::Register reg;
  reg.client_ids = {client_id};
  reg.instance_id = 0x7267756500ULL + static_cast<uint64_t>(client_id);
  EXPECT_TRUE((*channel)->send(encode(reg)).ok());
  driver_ = std::thread([this, channel = std::move(channel).value(), answer = std::move(answer)] {
    auto last_beat = std::chrono::steady_clock::now();
    while (!done_) {
      if (std::chrono::steady_clock::now() - last_beat > 500ms) {
        (void)channel->send(encode(msg::Heartbeat{}));
        last_beat = std::chrono::steady_clock::now();
      }
      auto in = channel->receive(100ms);
      if (!in.ok() || !*in) continue;
      auto decoded = decode(**in);
      if (!decoded.ok()) continue;
      if (const auto* task = std::get_if<msg::RoundTask>(&*decoded)) {
        msg::ClientUpdate update = answer(*task);
        if (update.task_id == 0) update.task_id = task->task_id;  // answers name their task unless forged
        (void)channel->send(encode(update));
      }
    }
  });
}

RogueClient::~RogueClient() {
  done_ = true;
  if (driver_.joinable()) driver_.join();
}

}  // namespace flotilla::testing
