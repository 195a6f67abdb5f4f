// The webpush plugin: Web Push (RFC 8030) to users who are not connected.
// Clients register their browser's PushSubscription with `$`-methods; the
// API server (POST <path>) and other plugins (the push plugin's `webPush`
// option, see README.md) send a notification to users, and it goes to each
// subscription of those users who have no socket here, encrypted (RFC 8291,
// aes128gcm) and signed (VAPID, RFC 8292), from worker threads.
#include "config.hpp"
#include "delivery.hpp"
#include "memory_store.hpp"
#include "redis_store.hpp"

#include <daheim/plugin.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <map>
#include <memory>
#include <set>

namespace webpush {

namespace {

struct HttpError {
  int status;
  std::string code;
  std::string message;
};

std::string json_error(std::string_view code, std::string_view message) {
  return dhl::Json::object({{"error", code}, {"message", message}}).dump();
}

bool same_secret(std::string_view a, std::string_view b) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> ha{}, hb{};
  unsigned int la = 0, lb = 0;
  if (EVP_Digest(a.data(), a.size(), ha.data(), &la, EVP_sha256(), nullptr) != 1) return false;
  if (EVP_Digest(b.data(), b.size(), hb.data(), &lb, EVP_sha256(), nullptr) != 1) return false;
  return la == lb && CRYPTO_memcmp(ha.data(), hb.data(), la) == 0;
}

std::string user_id(const dhl::Json& v) {
  if (v.is_string() && !v.as_string().empty() && v.as_string().size() <= 256)
    return std::string(v.as_string());
  if (v.is_int()) return std::to_string(v.as_int());
  throw HttpError{400, "bad_target", "users must be user ids (non-empty strings)"};
}

}  // namespace

// A send request, from HTTP or from another plugin:
//   {"users": ["42"], "data": <JSON or string>, "ttl": 120, "urgency": "high",
//    "topic": "ready", "onlyOffline": true}
struct SendRequest {
  std::vector<std::string> users;
  std::string payload;
  int64_t ttl_s;
  std::string urgency;
  std::string topic;
  bool only_offline = true;
};

class WebPush {
 public:
  struct SocketState {
    std::string user;
  };

  explicit WebPush(dhl::Host& host)
      : host_(host),
        config_(read_config(host.config())),
        vapid_(load_vapid(config_)),
        store_(make_store(host, config_)) {
    if (!http_global_init()) throw std::runtime_error("libcurl failed to initialise");
    delivery_ =
        std::make_unique<Delivery>(host_, vapid_, config_.delivery,
                                   [this](const std::string& user, const std::string& endpoint) {
                                     store_->remove(user, endpoint, [](StoreResult) {});
                                   });
    serve_routes();
    host_.info("VAPID key " + vapid_.public_key() + " (" + vapid_.subject() + "), " +
               std::to_string(config_.delivery.workers) + " worker(s), queue " +
               std::to_string(config_.delivery.max_queue) + ", subscriptions " +
               (host_.clustered() ? "in Redis under " + config_.redis_key : "in memory"));
  }

  // Clustered: every node shares the subscriptions in Redis; else memory.
  static std::unique_ptr<SubscriptionStore> make_store(dhl::Host& host, const Config& c) {
    if (host.clustered())
      return std::make_unique<RedisStore>(host, c.redis_key, c.max_per_user, c.max_subscriptions);
    return std::make_unique<MemoryStore>(c.max_per_user, c.max_subscriptions);
  }

  ~WebPush() {
    delivery_.reset();  // joins the workers
    http_global_cleanup();
  }

  void onConnect(dhl::Socket& socket) {
    if (socket.nsp() != config_.nsp || socket.user_id().empty()) return;
    socket.state<SocketState>().user = std::string(socket.user_id());
    ++online_[std::string(socket.user_id())];
  }

  void onDisconnect(dhl::Socket& socket) {
    const std::string& user = socket.state<SocketState>().user;
    if (user.empty()) return;
    auto it = online_.find(user);
    if (it != online_.end() && --it->second == 0) online_.erase(it);
  }

  // From another plugin (host send_message), topic "send": the body of a
  // send request. Answers the number of messages queued, or
  // DHL_ERR_INVALID for a bad request (logged with the reason).
  int onMessage(std::string_view from, std::string_view topic, const dhl::Json& data) {
    if (topic != "send") {
      host_.warning("message from " + std::string(from) + " with unknown topic \"" +
                    std::string(topic) + "\"");
      return DHL_ERR_INVALID;
    }
    try {
      return static_cast<int>(send(parse_send(data))["queued"].as_int());
    } catch (const HttpError& e) {
      host_.warning("send request from plugin " + std::string(from) + " refused: " + e.message);
      return DHL_ERR_INVALID;
    }
  }

  // $webpush.subscribe(subscription) -> {}
  dhl::Future subscribe(dhl::Socket& socket, const dhl::Json& args) {
    std::string user = signed_in(socket);
    std::string error;
    std::optional<Subscription> sub = parse_subscription(args[0], config_.allow_http, error);
    if (!sub) {
      host_.debug("refused a subscription of user " + user + ": " + error);
      throw dhl::Error("invalidSubscription");
    }
    auto p = std::make_shared<dhl::Promise>();
    dhl::Future f = p->future();
    store_->add(user, std::move(*sub), [p](StoreResult r) {
      if (r == StoreResult::Done) return p->resolve(dhl::Json::object());
      p->reject(r == StoreResult::Full ? "tooManySubscriptions" : "unavailable");
    });
    return f;
  }

  // $webpush.unsubscribe({endpoint}) -> {"removed": bool}
  dhl::Future unsubscribe(dhl::Socket& socket, const dhl::Json& args) {
    std::string user = signed_in(socket);
    const dhl::Json& a = args[0];
    std::string_view endpoint = a.is_string() ? a.as_string() : a["endpoint"].as_string();
    if (endpoint.empty()) throw dhl::Error("invalidSubscription");
    auto p = std::make_shared<dhl::Promise>();
    dhl::Future f = p->future();
    store_->remove(user, std::string(endpoint), [p](StoreResult r) {
      if (r == StoreResult::Unavailable) return p->reject("unavailable");
      p->resolve(dhl::Json::object({{"removed", r == StoreResult::Done}}));
    });
    return f;
  }

  // $webpush.publicKey -> {"publicKey": "<base64url>"}: the
  // applicationServerKey for pushManager.subscribe().
  dhl::Json public_key(dhl::Socket&) {
    return dhl::Json::object({{"publicKey", vapid_.public_key()}});
  }

  // Looks up the subscriptions of the users (offline ones only when asked)
  // and queues the notification for each; what was done, for the answer. A
  // store that answers later (Redis, in a cluster) queues after the answer:
  // "pending" counts the users still being looked up then (absent when 0).
  dhl::Json send(const SendRequest& r) {
    struct Tally {
      std::size_t messages = 0, dropped = 0, answered = 0;
    };
    auto tally = std::make_shared<Tally>();
    auto request = std::make_shared<const SendRequest>(r);
    std::size_t offline = 0;
    for (const std::string& user : r.users) {
      if (r.only_offline && online_.count(user)) continue;
      ++offline;
      store_->list(user, [this, tally, request, user](std::vector<Subscription> subs) {
        ++tally->answered;
        std::size_t dropped = 0;
        for (Subscription& s : subs) {
          Message m{user,
                    std::move(s),
                    request->payload,
                    request->ttl_s,
                    request->urgency,
                    request->topic,
                    0};
          if (delivery_->enqueue(std::move(m)))
            ++tally->messages;
          else
            ++dropped;
        }
        tally->dropped += dropped;
        if (dropped)
          host_.warning("queue full: " + std::to_string(dropped) + " message(s) for user " + user +
                        " dropped");
      });
    }
    dhl::Json out = dhl::Json::object({{"users", static_cast<int64_t>(r.users.size())},
                                       {"offline", static_cast<int64_t>(offline)},
                                       {"queued", static_cast<int64_t>(tally->messages)},
                                       {"dropped", static_cast<int64_t>(tally->dropped)}});
    if (tally->answered < offline) out["pending"] = static_cast<int64_t>(offline - tally->answered);
    return out;
  }

  // Reads {"users", "data", "ttl", "urgency", "topic", "onlyOffline"}.
  SendRequest parse_send(const dhl::Json& msg) const {
    if (!msg.is_object()) throw HttpError{400, "bad_json", "the body must be a JSON object"};
    for (const auto& [k, v] : msg.members())
      if (k != "users" && k != "data" && k != "ttl" && k != "urgency" && k != "topic" &&
          k != "onlyOffline")
        throw HttpError{400, "unknown_field", "unknown field \"" + k + "\""};
    SendRequest r{{}, {}, config_.ttl_s, config_.urgency, {}, true};
    const dhl::Json& users = msg["users"];
    if (!users.is_array() || users.size() == 0 || users.size() > config_.max_users)
      throw HttpError{
          400, "bad_target",
          "users must be an array of 1 to " + std::to_string(config_.max_users) + " user ids"};
    std::set<std::string> unique;
    for (const dhl::Json& u : users.items()) unique.insert(user_id(u));
    r.users.assign(unique.begin(), unique.end());
    const dhl::Json* data = msg.find("data");
    if (data == nullptr) throw HttpError{400, "missing_data", "\"data\" is required"};
    r.payload = data->is_string() ? std::string(data->as_string()) : data->dump();
    if (r.payload.size() > kMaxPlaintext)
      throw HttpError{400, "payload_too_large",
                      "data is longer than " + std::to_string(kMaxPlaintext) +
                          " bytes (a push message holds 4096 bytes, encrypted)"};
    if (const dhl::Json* t = msg.find("ttl")) {
      if (!t->is_int() || t->as_int() < 0 || t->as_int() > kMaxTtl)
        throw HttpError{400, "bad_ttl", "ttl must be seconds from 0 to " + std::to_string(kMaxTtl)};
      r.ttl_s = t->as_int();
    }
    if (const dhl::Json* u = msg.find("urgency")) {
      if (!valid_urgency(u->as_string()))
        throw HttpError{400, "bad_urgency", "urgency must be very-low, low, normal or high"};
      r.urgency = std::string(u->as_string());
    }
    if (const dhl::Json* t = msg.find("topic")) {
      std::string_view topic = t->as_string();
      bool ok = t->is_string() && !topic.empty() && topic.size() <= 32;
      for (char c : topic)
        ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_');
      if (!ok) throw HttpError{400, "bad_topic", "topic: 1 to 32 base64url characters"};
      r.topic = std::string(topic);
    }
    if (const dhl::Json* o = msg.find("onlyOffline")) {
      if (!o->is_bool()) throw HttpError{400, "bad_json", "onlyOffline must be true or false"};
      r.only_offline = o->as_bool();
    }
    return r;
  }

  dhl::Json stats() const {
    const Counters& c = delivery_->counters();
    return dhl::Json::object({{"subscriptions", static_cast<int64_t>(store_->size())},
                              {"queue", static_cast<int64_t>(delivery_->depth())},
                              {"waitingRetry", static_cast<int64_t>(delivery_->waiting_retry())},
                              {"accepted", static_cast<int64_t>(c.accepted)},
                              {"dropped", static_cast<int64_t>(c.dropped)},
                              {"delivered", static_cast<int64_t>(c.delivered)},
                              {"gone", static_cast<int64_t>(c.gone)},
                              {"retried", static_cast<int64_t>(c.retried)},
                              {"failed", static_cast<int64_t>(c.failed)}});
  }

 private:
  std::string signed_in(dhl::Socket& socket) const {
    if (socket.user_id().empty()) throw dhl::Error("unauthorized");
    return std::string(socket.user_id());
  }

  void serve_routes() {
    if (config_.bearer.empty()) {
      host_.info("no bearerSecretFile: " + config_.path + " and " + config_.stats_path +
                 " are not served");
      return;
    }
    const dhl_host* api = host_.api();
    if (!DHL_HOST_HAS(api, http_route) || !DHL_HOST_HAS(api, http_header))
      throw std::runtime_error("this server has no HTTP routes for plugins: upgrade daheim-live");
    route("POST", config_.path, &WebPush::on_send);
    route("GET", config_.stats_path, &WebPush::on_stats);
  }

  void route(std::string_view method, const std::string& path, dhl_http_fn fn) {
    int rc = host_.api()->http_route(host_.ctx(), dhl::str(method), dhl::str(path),
                                     config_.max_body, fn, this);
    if (rc != DHL_OK) throw std::runtime_error("cannot serve " + std::string(method) + " " + path);
  }

  void authenticate(const dhl_http_request& req) const {
    std::string_view auth =
        dhl::view(host_.api()->http_header(host_.ctx(), &req, dhl::str("authorization")));
    constexpr std::string_view scheme = "Bearer ";
    if (!auth.starts_with(scheme) || !same_secret(auth.substr(scheme.size()), config_.bearer)) {
      host_.notice("refused a request from " + std::string(dhl::view(req.remote_address)) +
                   ": bad or missing bearer credential");
      throw HttpError{401, "unauthorized", "Authorization: Bearer <credential> is required"};
    }
  }

  template <typename F>
  static void answer(void* user, const dhl_http_request* req, dhl_http_response* res, int ok,
                     F&& handle) noexcept {
    auto* self = static_cast<WebPush*>(user);
    std::string& body = self->response_;
    try {
      self->authenticate(*req);
      body = handle(*self, *req);
      res->status = ok;
    } catch (const HttpError& e) {
      res->status = e.status;
      body = json_error(e.code, e.message);
    } catch (const std::exception& e) {
      self->host_.error(std::string("request failed: ") + e.what());
      res->status = 500;
      body = json_error("internalServerError", "the request failed");
    }
    res->content_type = dhl::str("application/json");
    res->body = dhl::str(body);
  }

  static void on_send(void* user, const dhl_http_request* req, dhl_http_response* res) noexcept {
    answer(user, req, res, 202, [](WebPush& self, const dhl_http_request& r) {
      std::string parse_error;
      std::optional<dhl::Json> msg = dhl::Json::parse(dhl::view(r.body), {}, &parse_error);
      if (!msg) throw HttpError{400, "bad_json", "the body is not JSON: " + parse_error};
      return self.send(self.parse_send(*msg)).dump();
    });
  }

  static void on_stats(void* user, const dhl_http_request* req, dhl_http_response* res) noexcept {
    answer(user, req, res, 200,
           [](WebPush& self, const dhl_http_request&) { return self.stats().dump(); });
  }

  dhl::Host& host_;
  Config config_;
  Vapid vapid_;
  std::unique_ptr<SubscriptionStore> store_;
  std::map<std::string, std::size_t, std::less<>> online_;  // user -> sockets here
  std::string response_;
  std::unique_ptr<Delivery> delivery_;  // last: stopped first
};

}  // namespace webpush

DHL_PLUGIN(webpush::WebPush, "webpush", "1.0.0",
           dhl::method<&webpush::WebPush::subscribe>("$webpush.subscribe"),
           dhl::method<&webpush::WebPush::unsubscribe>("$webpush.unsubscribe"),
           dhl::method<&webpush::WebPush::public_key>("$webpush.publicKey"))
