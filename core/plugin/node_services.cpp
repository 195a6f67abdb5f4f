#include "plugin/node_services.hpp"

#include <random>
#include <vector>

#include "plugin/context.hpp"
#include "plugin/payload.hpp"
#include "socketio/namespace.hpp"
#include "socketio/server.hpp"

namespace daheim::plugin {
namespace {

constexpr std::string_view kPrefix = "dhl:";

std::string random_id() {
  static constexpr std::string_view kAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::random_device rd;
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string id;
  for (int i = 0; i < 16; ++i) id += kAlphabet[pick(rd)];
  return id;
}

void deliver_answers(dhl_broadcast_ack_fn fn, void* user, const std::vector<std::string>& answers,
                     bool complete) {
  std::vector<std::string> arrays;
  for (const std::string& a : answers) arrays.push_back("[" + a + "]");
  std::vector<dhl_payload> payloads;
  for (const std::string& a : arrays) payloads.push_back({a.data(), a.size(), nullptr, 0});
  fn(user, complete ? DHL_OK : DHL_ERR_TIMEOUT, payloads.data(), payloads.size());
}

std::string event_name(dhl_ctx* ctx, std::string_view event) {
  return std::string(kPrefix) + std::string(ctx->name()) + ":" + std::string(event);
}

}  // namespace

NodeServices::NodeServices(socketio::Server& io)
    : io_(io), local_id_(random_id()), alive_(std::make_shared<NodeServices*>(this)) {}

NodeServices::~NodeServices() {
  *alive_ = nullptr;
  if (cluster_) cluster_->set_node_handler(nullptr);
}

void NodeServices::set_cluster(ClusterServices* cluster) {
  if (cluster_) cluster_->set_node_handler(nullptr);
  cluster_ = cluster;
  if (!cluster_) return;
  cluster_->set_node_handler([alive = alive_](bool joined, std::string_view id) {
    if (*alive) (*alive)->on_node(joined, id);
  });
}

void NodeServices::install() {
  socketio::Namespace* nsp = io_.find("/");
  if (!nsp) return;
  socketio::Namespace::ServerSideEmitHandler previous = nsp->server_side_emit_handler();
  nsp->on_server_side_emit([alive = alive_, previous](std::string_view event, std::string_view args,
                                                      socketio::Namespace::ServerSideAck ack) {
    if (*alive && (*alive)->on_message(event, args, ack)) return;
    if (previous) previous(event, args, std::move(ack));
  });
}

std::string_view NodeServices::node_id() const {
  return cluster_ ? cluster_->node_id() : std::string_view(local_id_);
}

void NodeServices::release(dhl_ctx* ctx) {
  node_handlers_.erase(ctx);
  message_handlers_.erase(ctx);
  std::vector<uint64_t> ids;
  for (const auto& [id, call] : calls_)
    if (call.ctx == ctx) ids.push_back(id);
  for (uint64_t id : ids) finish(id, DHL_ERR_GONE, nullptr);
}

int NodeServices::set_node_handler(dhl_ctx* ctx, dhl_node_fn fn, void* user) {
  if (fn)
    node_handlers_[ctx] = {fn, user};
  else
    node_handlers_.erase(ctx);
  return DHL_OK;
}

int NodeServices::set_message_handler(dhl_ctx* ctx, dhl_node_message_fn fn, void* user) {
  if (fn)
    message_handlers_[ctx] = {fn, user};
  else
    message_handlers_.erase(ctx);
  return DHL_OK;
}

void NodeServices::on_node(bool joined, std::string_view id) {
  auto handlers = node_handlers_;  // a handler may clear itself
  for (const auto& [ctx, h] : handlers) {
    if (!node_handlers_.contains(ctx)) continue;
    h.fn(h.user, joined ? DHL_NODE_JOINED : DHL_NODE_LEFT, str(id));
    if (!*alive_) return;
  }
}

// ---- Redis -------------------------------------------------------------------

int NodeServices::start_call(dhl_ctx* ctx, uint32_t timeout_ms, dhl_redis_fn fn, void* user,
                             const Start& go) {
  if (!fn) return DHL_ERR_INVALID;
  if (!cluster_) return DHL_ERR_UNAVAILABLE;
  dead_timers_.clear();
  uint64_t id = ++next_call_;
  std::shared_ptr<NodeServices*> alive = alive_;
  bool queued = go([alive, id](int status, const dhl_redis_reply* reply) {
    if (*alive) (*alive)->finish(id, status, reply);
  });
  if (!queued) return DHL_ERR_UNAVAILABLE;
  loop::Millis timeout = timeout_ms ? loop::Millis(timeout_ms) : cluster_->default_timeout();
  auto timer = std::make_unique<loop::Timer>(io_.timers(),
                                             [this, id] { finish(id, DHL_ERR_TIMEOUT, nullptr); });
  timer->arm(timeout);
  calls_.emplace(id, Pending{ctx, fn, user, std::move(timer)});
  return DHL_OK;
}

// The first outcome wins: a reply after the timeout is dropped.
void NodeServices::finish(uint64_t id, int status, const dhl_redis_reply* reply) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  dhl_redis_fn fn = it->second.fn;
  void* user = it->second.user;
  retire(std::move(it->second.timer));
  calls_.erase(it);
  fn(user, status, reply);
}

int NodeServices::command(dhl_ctx* ctx, std::span<const std::string_view> argv, uint32_t timeout_ms,
                          dhl_redis_fn fn, void* user) {
  if (argv.empty()) return DHL_ERR_INVALID;
  return start_call(ctx, timeout_ms, fn, user, [&](ClusterServices::RedisCallback cb) {
    return cluster_->command(argv, std::move(cb));
  });
}

int NodeServices::script(dhl_ctx* ctx, std::string_view text,
                         std::span<const std::string_view> keys,
                         std::span<const std::string_view> args, uint32_t timeout_ms,
                         dhl_redis_fn fn, void* user) {
  if (text.empty()) return DHL_ERR_INVALID;
  return start_call(ctx, timeout_ms, fn, user, [&](ClusterServices::RedisCallback cb) {
    return cluster_->script(text, keys, args, std::move(cb));
  });
}

// ---- Node messages -------------------------------------------------------------

int NodeServices::emit(dhl_ctx* ctx, std::string_view event, std::string_view args,
                       uint32_t timeout_ms, dhl_broadcast_ack_fn fn, void* user) {
  socketio::Namespace* nsp = io_.find("/");
  if (!nsp) return DHL_ERR_NOTFOUND;
  std::string text = args.empty() ? std::string("[]") : std::string(args);
  dead_timers_.clear();
  socketio::ServerSideEmitCallback done;
  if (fn) {
    uint64_t id = ++next_call_;
    std::shared_ptr<NodeServices*> alive = alive_;
    done = [alive, id, fn, user](std::vector<std::string> answers, bool complete) {
      if (*alive && (*alive)->end_emit(id)) deliver_answers(fn, user, answers, complete);
    };
    if (timeout_ms) {
      auto timer = std::make_unique<loop::Timer>(io_.timers(), [this, id, fn, user] {
        if (end_emit(id)) deliver_answers(fn, user, {}, false);
      });
      timer->arm(loop::Millis(timeout_ms));
      emits_.emplace(id, std::move(timer));
    } else {
      emits_.emplace(id, nullptr);
    }
  }
  return nsp->server_side_emit(event_name(ctx, event), text, std::move(done)) ? DHL_OK
                                                                              : DHL_ERR_REFUSED;
}

bool NodeServices::end_emit(uint64_t id) {
  auto it = emits_.find(id);
  if (it == emits_.end()) return false;
  retire(std::move(it->second));
  emits_.erase(it);
  return true;
}

void NodeServices::retire(std::unique_ptr<loop::Timer> timer) {
  if (!timer) return;
  timer->disarm();
  dead_timers_.push_back(std::move(timer));  // it may be the one firing now
}

bool NodeServices::on_message(std::string_view event, std::string_view args,
                              std::function<void(std::string_view)> ack) {
  if (!event.starts_with(kPrefix)) return false;
  std::string_view rest = event.substr(kPrefix.size());
  std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view plugin = rest.substr(0, colon), name = rest.substr(colon + 1);
  for (const auto& [ctx, h] : message_handlers_) {
    if (ctx->name() != plugin) continue;
    dhl_payload p{args.data(), args.size(), nullptr, 0};
    dhl_node_answer answer{std::move(ack)};
    h.fn(h.user, str(name), &p, answer.send ? &answer : nullptr);
    return true;
  }
  return true;  // a plugin message for a plugin this node lacks: nobody answers
}

}  // namespace daheim::plugin
