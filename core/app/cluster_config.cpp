#include "app/cluster_config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "app/config.hpp"
#include "app/config_reader.hpp"

namespace daheim::app {
namespace {

std::string read_password(const std::string& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure{key, "cannot read " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) throw Failure{key, path + " is empty"};
  return s;
}

bool wildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

void read_forwarding(ObjectReader& r, ClusterConfig& c) {
  r.boolean("forwarding", c.forwarding);
  std::string listen = c.internal_host + ":" + std::to_string(c.internal_port);
  r.string("internalListen", listen);
  if (!parse_listen(listen, c.internal_host, c.internal_port))
    throw Failure{r.key("internalListen"), "expected HOST:PORT, got " + listen};
  r.string("internalAddress", c.internal_address);
  if (!c.internal_address.empty() && c.internal_address.find(':') != std::string::npos &&
      c.internal_address.front() != '[')
    throw Failure{r.key("internalAddress"), "expected a host (an IPv6 address in brackets)"};
  if (c.forwarding && wildcard(c.internal_host) && c.internal_address.empty())
    throw Failure{r.key("internalAddress"), "required when internalListen is a wildcard address (" +
                                                listen +
                                                "): the address other nodes reach this one at"};
}

}  // namespace

void read_cluster(ObjectReader& root, ClusterConfig& c) {
  const cJSON* obj = root.object("cluster");
  if (!obj) return;
  ObjectReader r(obj, "cluster");
  c.enabled = true;
  r.boolean("enabled", c.enabled);
  r.string("redis", c.redis_url);
  if (std::string err = cluster::parse_redis_url(c.redis_url, c.address); !err.empty())
    throw Failure{r.key("redis"), err};
  r.string("passwordFile", c.password_file);
  if (!c.password_file.empty())
    c.address.password = read_password(c.password_file, r.key("passwordFile"));
  r.string("key", c.options.key);
  if (c.options.key.empty() || c.options.key.find('#') != std::string::npos)
    throw Failure{r.key("key"), "expected a non-empty prefix without #"};
  std::string adapter = "pubsub";
  r.string("adapter", adapter);
  if (adapter == "pubsub")
    c.options.adapter = cluster::AdapterKind::PubSub;
  else if (adapter == "sharded")
    c.options.adapter = cluster::AdapterKind::Sharded;
  else if (adapter == "streams")
    c.options.adapter = cluster::AdapterKind::Streams;
  else
    throw Failure{r.key("adapter"), "expected \"pubsub\", \"sharded\" or \"streams\""};
  r.string("streamName", c.streams.stream_name);
  if (c.streams.stream_name.empty()) throw Failure{r.key("streamName"), "expected a stream name"};
  r.integer_as("streamCount", 1, 1024, c.streams.stream_count);
  r.integer_as("maxLen", 1, int64_t(1) << 32, c.streams.max_len);
  r.integer_as("readCount", 1, 100000, c.streams.read_count);
  r.integer_as("recoveryWindowEntries", 0, int64_t(1) << 32, c.streams.window.max_entries);
  r.integer_as("recoveryWindowBytes", 0, int64_t(1) << 40, c.streams.window.max_bytes);
  r.string("sessionKeyPrefix", c.session_key_prefix);
  r.millis("requestsTimeout", 1, c.options.requests_timeout);
  c.streams.wait_timeout = c.options.requests_timeout;
  r.millis("connectTimeout", 1, c.redis.limits.connect_timeout);
  r.millis("reconnectMin", 1, c.redis.reconnect_min);
  r.millis("reconnectMax", 1, c.redis.reconnect_max);
  if (c.redis.reconnect_max < c.redis.reconnect_min)
    throw Failure{r.key("reconnectMax"), "must not be below reconnectMin"};
  r.millis("heartbeatInterval", 100, c.nodes.interval);
  r.millis("nodeTtl", 200, c.nodes.ttl);
  if (c.nodes.ttl <= c.nodes.interval)
    throw Failure{r.key("nodeTtl"), "must be above heartbeatInterval"};
  r.millis("pluginRedisTimeout", 1, c.plugin_redis_timeout);
  read_forwarding(r, c);
  r.integer_as("publishBufferBytes", 0, int64_t(1) << 34, c.redis.publish_buffer_bytes);
  r.integer_as("maxMessageBytes", 1024, int64_t(1) << 30, c.options.max_message_bytes);
  // Larger messages are dropped (and counted) once read; only a reply past
  // this bound resets the subscriber connection.
  c.redis.limits.max_reply_bytes =
      std::max<std::size_t>(std::size_t(64) << 20, 2 * c.options.max_message_bytes);
  r.finish();
}

}  // namespace daheim::app
