// The `cluster` config section, as the cluster layer needs it.
#pragma once

#include <cstddef>
#include <string>

#include "loop/timer.hpp"

namespace daheim::cluster {

enum class AdapterKind { PubSub, Sharded, Streams };

struct ClusterOptions {
  std::string key = "socket.io";  // channel prefix, as the adapters' `key` / `channelPrefix`
  AdapterKind adapter = AdapterKind::PubSub;
  loop::Millis requests_timeout{5000};
  std::size_t max_message_bytes = 1024 * 1024;  // larger messages from Redis are dropped
};

}  // namespace daheim::cluster
