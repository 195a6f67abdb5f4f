// The ABI 1.3 host services of the plugin host: this node's id and
// membership events, Redis commands and scripts through the host's own
// connection (with the call's timeout, failed with a code when the host
// stops), and messages between the instances of one plugin on all nodes
// (serverSideEmit events "dhl:<plugin>:<event>" on the "/" namespace).
// Without ClusterServices: one node, Redis DHL_ERR_UNAVAILABLE. Loop thread
// only, except node_id().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daheim/plugin.h"
#include "loop/timer.hpp"
#include "plugin/cluster_services.hpp"

struct dhl_node_answer {
  std::function<void(std::string_view json)> send;  // null once used
};

namespace daheim::socketio {
class Server;
}

namespace daheim::plugin {

class NodeServices {
 public:
  explicit NodeServices(socketio::Server& io);
  ~NodeServices();
  NodeServices(const NodeServices&) = delete;
  NodeServices& operator=(const NodeServices&) = delete;

  // Before plugins load (null: a single node).
  void set_cluster(ClusterServices* cluster);
  // Routes node messages from the "/" namespace (after it has its adapter).
  void install();
  // Fails every pending Redis call of `ctx` with DHL_ERR_GONE and forgets
  // its handlers (before the plugin's shutdown).
  void release(dhl_ctx* ctx);

  std::string_view node_id() const;
  bool clustered() const { return cluster_ != nullptr; }
  int set_node_handler(dhl_ctx* ctx, dhl_node_fn fn, void* user);
  int set_message_handler(dhl_ctx* ctx, dhl_node_message_fn fn, void* user);
  int command(dhl_ctx* ctx, std::span<const std::string_view> argv, uint32_t timeout_ms,
              dhl_redis_fn fn, void* user);
  int script(dhl_ctx* ctx, std::string_view script, std::span<const std::string_view> keys,
             std::span<const std::string_view> args, uint32_t timeout_ms, dhl_redis_fn fn,
             void* user);
  int emit(dhl_ctx* ctx, std::string_view event, std::string_view args, uint32_t timeout_ms,
           dhl_broadcast_ack_fn fn, void* user);

  std::size_t pending_redis_calls() const { return calls_.size(); }

 private:
  struct Pending {
    dhl_ctx* ctx;
    dhl_redis_fn fn;
    void* user;
    std::unique_ptr<loop::Timer> timer;
  };
  template <typename T>
  struct Handler {
    T fn;
    void* user;
  };
  using Start = std::function<bool(ClusterServices::RedisCallback)>;
  int start_call(dhl_ctx* ctx, uint32_t timeout_ms, dhl_redis_fn fn, void* user, const Start& go);
  void finish(uint64_t id, int status, const dhl_redis_reply* reply);
  void on_node(bool joined, std::string_view id);
  bool on_message(std::string_view event, std::string_view args,
                  std::function<void(std::string_view)> ack);

  bool end_emit(uint64_t id);
  void retire(std::unique_ptr<loop::Timer> timer);

  socketio::Server& io_;
  ClusterServices* cluster_ = nullptr;
  std::string local_id_;
  std::map<uint64_t, Pending> calls_;
  uint64_t next_call_ = 0;
  std::unordered_map<dhl_ctx*, Handler<dhl_node_fn>> node_handlers_;
  std::unordered_map<dhl_ctx*, Handler<dhl_node_message_fn>> message_handlers_;
  std::map<uint64_t, std::unique_ptr<loop::Timer>> emits_;  // waiting for answers
  std::vector<std::unique_ptr<loop::Timer>> dead_timers_;
  std::shared_ptr<NodeServices*> alive_;
};

}  // namespace daheim::plugin
