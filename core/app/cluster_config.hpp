// The `cluster` config section: this node joins a cluster over Redis.
// Absent: a single node, no Redis anywhere.
#pragma once

#include <string>

#include "cluster/cluster_options.hpp"
#include "cluster/node_registry.hpp"
#include "cluster/redis_client.hpp"
#include "cluster/stream_log.hpp"

namespace daheim::app {

class ObjectReader;

struct ClusterConfig {
  bool enabled = false;
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string password_file;
  cluster::RedisAddress address;      // from redis_url (+ the password file)
  cluster::RedisClientOptions redis;  // endpoint resolved at start
  cluster::ClusterOptions options;
  // Heartbeats (key and id are filled at start); a dead node leaves after
  // at most ttl + interval.
  cluster::NodeRegistryOptions nodes{"", "", loop::Millis(2000), loop::Millis(10000)};
  loop::Millis plugin_redis_timeout{5000};  // plugins' Redis calls with timeout 0
  // Sessions served by any node (issue 16): requests for a session another
  // node holds are forwarded to that node's internal listener.
  bool forwarding = true;
  std::string internal_host = "127.0.0.1";  // cluster.internalListen
  int internal_port = 0;
  std::string internal_address;  // cluster.internalAddress: what others connect to
  // adapter "streams": the stream(s) and the recovery sessions' keys.
  cluster::StreamLogOptions streams;
  std::string session_key_prefix = "sio:session:";
};

// Reads `cluster` from the root object; throws Failure.
void read_cluster(ObjectReader& root, ClusterConfig& out);

}  // namespace daheim::app
