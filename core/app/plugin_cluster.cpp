#include "app/plugin_cluster.hpp"

#include <hiredis/hiredis.h>

#include <vector>

#include "cluster/redis_script.hpp"

namespace daheim::app {
namespace {

// A reply tree in the ABI's shape; the nodes point into the hiredis reply.
struct Converted {
  std::vector<std::vector<dhl_redis_reply>> arrays;  // children of each array node
  dhl_redis_reply root{};
};

void convert(const redisReply& r, dhl_redis_reply& out, Converted& keep) {
  out = dhl_redis_reply{DHL_REDIS_NIL, 0, {nullptr, 0}, nullptr, 0};
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = DHL_REDIS_STRING;
      out.str = {r.str, r.len};
      break;
    case REDIS_REPLY_STATUS:
      out.type = DHL_REDIS_STATUS;
      out.str = {r.str, r.len};
      break;
    case REDIS_REPLY_ERROR:
      out.type = DHL_REDIS_ERROR;
      out.str = {r.str, r.len};
      break;
    case REDIS_REPLY_INTEGER:
      out.type = DHL_REDIS_INTEGER;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY: {
      out.type = DHL_REDIS_ARRAY;
      std::vector<dhl_redis_reply> children(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) convert(*r.element[i], children[i], keep);
      keep.arrays.push_back(std::move(children));
      out.elements = keep.arrays.back().data();
      out.element_count = r.elements;
      break;
    }
    default:
      break;
  }
}

cluster::RedisConnection::ReplyCallback adapt(plugin::ClusterServices::RedisCallback cb) {
  return [cb = std::move(cb)](const redisReply* reply) {
    if (!reply) return cb(DHL_ERR_UNAVAILABLE, nullptr);
    Converted c;
    convert(*reply, c.root, c);
    cb(reply->type == REDIS_REPLY_ERROR ? DHL_ERR_REDIS : DHL_OK, &c.root);
  };
}

}  // namespace

PluginCluster::~PluginCluster() {
  nodes_.set_handler(nullptr);
}

bool PluginCluster::command(std::span<const std::string_view> argv, RedisCallback callback) {
  return redis_.command(argv, adapt(std::move(callback)));
}

bool PluginCluster::script(std::string_view script, std::span<const std::string_view> keys,
                           std::span<const std::string_view> args, RedisCallback callback) {
  return cluster::run_script(redis_, script, cluster::script_sha1(script), keys, args,
                             adapt(std::move(callback)));
}

void PluginCluster::set_node_handler(NodeHandler handler) {
  if (!handler) return nodes_.set_handler(nullptr);
  nodes_.set_handler(
      [h = std::move(handler)](bool joined, const std::string& id) { h(joined, id); });
}

}  // namespace daheim::app
