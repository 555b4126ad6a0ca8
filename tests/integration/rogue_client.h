// RogueClient: a hand-driven client process stand-in for tests of what the coordinator does with
// updates no honest client sends. It registers one id, heartbeats, and answers every round task
// for that id with whatever `answer` builds (named with the task's id unless `answer` set
// another), until destroyed.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "protocol/messages.h"

namespace flotilla::testing {

class RogueClient {
 public:
  using Answer = std::function<msg::ClientUpdate(const msg::RoundTask& task)>;
  RogueClient(const std::string& endpoint, int client_id, Answer answer);
  ~RogueClient();  // stops answering
  RogueClient(const RogueClient&) = delete;
  RogueClient& operator=(const RogueClient&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread driver_;
};

}  // namespace flotilla::testing
