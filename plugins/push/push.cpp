// The push plugin: HTTP ingress for the API server. `POST /api/v1/push`,
// authenticated with a service credential, delivers one event to every
// connection of a user, a list of users, a room or everybody:
//
//   POST /api/v1/push
//   Authorization: Bearer <secret from bearerSecretFile, or a service JWT>
//   {"to": {"user": "42"}, "event": "lessonInvite", "data": {...}}
//   -> 202 {"sockets": 2}
//
// With "webPush": true (or {data, ttl, urgency, topic}) and a user target, the
// users without a socket here also get a Web Push notification: the request
// is handed to the webpush plugin through the host (send_message, ABI 1.3).
//
// Config (plugins[].config):
//   "bearerSecretFile": "/etc/daheim-live/push.secret"   at least 32 bytes
//   "devBearerSecret": "..."   the same, inline, for development configs only
//   "serviceJwt": {"audience": "push", "issuer": "daheim-api"}   a JWT checked by
//                  the server with its auth keys and claim rules (host verify_token)
//   "path": "/api/v1/push", "namespace": "/", "maxBody": 65536, "maxUsers": 1000,
//   "webPushPlugin": "webpush"
// At least one credential must be configured.
//
// The HTTP part and the token check use the C ABI directly (dhl_host::
// http_route, appended in ABI 1.1, and verify_token, 1.2: the plugin fails its
// init on an older host when it needs them).
#include <daheim/plugin.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t kMinSecretBytes = 32;

// ---- Small helpers -------------------------------------------------------

std::string read_secret_file(const std::string& path, const char* key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(key) + ": cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  // A file written with `echo` ends with a newline that is not the secret.
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.size() < kMinSecretBytes)
    throw std::runtime_error(std::string(key) + ": " + path + " holds fewer than " +
                             std::to_string(kMinSecretBytes) + " bytes");
  return s;
}

// Compares without an early exit and without leaking the length: both sides
// are hashed first, then compared in constant time.
bool same_secret(std::string_view a, std::string_view b) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> ha{}, hb{};
  unsigned int la = 0, lb = 0;
  if (EVP_Digest(a.data(), a.size(), ha.data(), &la, EVP_sha256(), nullptr) != 1) return false;
  if (EVP_Digest(b.data(), b.size(), hb.data(), &lb, EVP_sha256(), nullptr) != 1) return false;
  return la == lb && CRYPTO_memcmp(ha.data(), hb.data(), la) == 0;
}

std::string json_error(std::string_view code, std::string_view message) {
  return dhl::Json::object({{"error", code}, {"message", message}}).dump();
}

bool reserved_event(std::string_view e) {
  return e == "connect" || e == "connect_error" || e == "disconnect" || e == "disconnecting" ||
         e == "newListener" || e == "removeListener";
}

// The number of sockets `target` selects, from the host when it can tell
// (a host function `target_count`, proposed for after ABI 1.0: detected at
// compile time and at run time, so this builds against either SDK).
template <typename Api>
std::optional<std::size_t> host_count(const Api* api, dhl_ctx* ctx, const dhl_target* target) {
  if constexpr (requires { api->target_count; }) {
    // DHL_HOST_HAS, spelled with the dependent type.
    if (api->struct_size >= offsetof(Api, target_count) + sizeof(api->target_count) &&
        api->target_count != nullptr) {
      auto n = api->target_count(ctx, target);
      if (n >= 0) return static_cast<std::size_t>(n);
    }
  }
  return std::nullopt;
}

// ---- Service JWT -----------------------------------------------------------

// What a service token must carry on top of the server's checks (its keys,
// algorithms, exp/nbf/iat with the leeway): `audience` in aud (instead of the
// server's audiences), an exp, and `issuer` as iss when given.
struct JwtConfig {
  std::string audience;
  std::string issuer;  // empty: not checked
};

// Empty when the token is valid, else why not.
std::string verify_jwt(const dhl_host* api, dhl_ctx* ctx, const JwtConfig& cfg,
                       std::string_view token) {
  dhl_str claims_text{nullptr, 0}, error{nullptr, 0};
  int rc = api->verify_token(ctx, dhl::str(token), dhl::str(cfg.audience), &claims_text, &error);
  if (rc == DHL_ERR_REFUSED) return std::string(dhl::view(error));
  if (rc != DHL_OK) return "the server cannot verify tokens (error " + std::to_string(rc) + ")";
  std::optional<dhl::Json> claims = dhl::Json::parse(dhl::view(claims_text));
  if (!claims || !claims->is_object()) return "malformed";
  const dhl::Json* exp = claims->find("exp");
  if (exp == nullptr || !exp->is_number()) return "no exp claim";
  if (!cfg.issuer.empty() && (*claims)["iss"].as_string() != cfg.issuer)
    return "issuer not accepted";
  return {};
}

// ---- The plugin ------------------------------------------------------------

struct HttpError {
  int status;
  std::string code;
  std::string message;
};

class Push {
 public:
  struct SocketState {
    std::string nsp;
    std::string user;
  };

  explicit Push(dhl::Host& host) : host_(host) {
    const dhl_host* api = host.api();
    if (!DHL_HOST_HAS(api, http_route) || !DHL_HOST_HAS(api, http_header))
      throw std::runtime_error(
          "this server has no HTTP routes for plugins (dhl_host::http_route, added after ABI 1.0): "
          "upgrade daheim-live");
    configure(host.config());
    int rc = api->http_route(host.ctx(), dhl::str("POST"), dhl::str(path_), max_body_,
                             &Push::on_http, this);
    if (rc != DHL_OK)
      throw std::runtime_error(
          "cannot serve POST " + path_ +
          (rc == DHL_ERR_REFUSED ? ": the path is taken" : ": error " + std::to_string(rc)));
    std::string creds = bearer_.empty() ? "" : "bearer secret";
    if (jwt_)
      creds +=
          std::string(creds.empty() ? "" : " and ") + "service JWT (aud " + jwt_->audience + ")";
    host_.info("serving POST " + path_ + " (namespace " + nsp_ + ", " + creds + ", maxBody " +
               std::to_string(max_body_) + ")");
  }

  void onConnect(dhl::Socket& socket) {
    auto& st = socket.state<SocketState>();
    st.nsp = std::string(socket.nsp());
    st.user = std::string(socket.user_id());
    Tally& t = tally_[st.nsp];
    ++t.sockets;
    if (!st.user.empty()) ++t.users[st.user];
  }

  void onDisconnect(dhl::Socket& socket) {
    auto& st = socket.state<SocketState>();
    auto it = tally_.find(st.nsp);
    if (it == tally_.end()) return;
    Tally& t = it->second;
    if (t.sockets > 0) --t.sockets;
    if (!st.user.empty()) {
      auto u = t.users.find(st.user);
      if (u != t.users.end() && --u->second == 0) t.users.erase(u);
    }
  }

 private:
  struct Tally {
    std::size_t sockets = 0;
    std::unordered_map<std::string, std::size_t> users;
  };

  void configure(const dhl::Json& cfg) {
    if (!cfg.is_null() && !cfg.is_object()) throw std::runtime_error("config: expected an object");
    static const std::set<std::string_view> known{
        "bearerSecretFile", "devBearerSecret", "serviceJwt", "path",
        "namespace",        "maxBody",         "maxUsers",   "webPushPlugin"};
    for (const auto& [k, v] : cfg.members())
      if (!known.count(k)) throw std::runtime_error("config: unknown key \"" + k + "\"");

    if (const dhl::Json* p = cfg.find("path")) {
      if (!p->is_string() || p->as_string().empty() || p->as_string()[0] != '/')
        throw std::runtime_error("config: path must be a string starting with /");
      path_ = std::string(p->as_string());
    }
    if (const dhl::Json* n = cfg.find("namespace")) {
      if (!n->is_string() || n->as_string().empty() || n->as_string()[0] != '/')
        throw std::runtime_error("config: namespace must be a string starting with /");
      nsp_ = std::string(n->as_string());
    }
    if (const dhl::Json* m = cfg.find("maxBody")) {
      if (!m->is_int() || m->as_int() < 64 || m->as_int() > (64 << 20))
        throw std::runtime_error("config: maxBody must be an integer from 64 to 67108864");
      max_body_ = static_cast<std::size_t>(m->as_int());
    }
    if (const dhl::Json* m = cfg.find("maxUsers")) {
      if (!m->is_int() || m->as_int() < 1 || m->as_int() > 100000)
        throw std::runtime_error("config: maxUsers must be an integer from 1 to 100000");
      max_users_ = static_cast<std::size_t>(m->as_int());
    }
    if (const dhl::Json* w = cfg.find("webPushPlugin")) {
      if (!w->is_string() || w->as_string().empty())
        throw std::runtime_error("config: webPushPlugin must be a plugin name");
      web_push_plugin_ = std::string(w->as_string());
    }
    if (const dhl::Json* f = cfg.find("bearerSecretFile")) {
      if (!f->is_string() || f->as_string().empty())
        throw std::runtime_error("config: bearerSecretFile must be a path");
      bearer_ = read_secret_file(std::string(f->as_string()), "bearerSecretFile");
    }
    if (const dhl::Json* d = cfg.find("devBearerSecret")) {
      if (!bearer_.empty())
        throw std::runtime_error("config: give bearerSecretFile or devBearerSecret, not both");
      if (!d->is_string() || d->as_string().size() < kMinSecretBytes)
        throw std::runtime_error("config: devBearerSecret must be a string of at least " +
                                 std::to_string(kMinSecretBytes) + " bytes");
      bearer_ = std::string(d->as_string());
      host_.warning(
          "devBearerSecret: the push credential is written in the configuration (development "
          "only)");
    }
    if (const dhl::Json* j = cfg.find("serviceJwt")) {
      jwt_ = read_jwt_config(*j);
      check_token_support();
    }
    if (bearer_.empty() && !jwt_)
      throw std::runtime_error(
          "config: give bearerSecretFile and/or serviceJwt (no credential, no push)");
  }

  static JwtConfig read_jwt_config(const dhl::Json& j) {
    if (!j.is_object()) throw std::runtime_error("config: serviceJwt must be an object");
    for (const auto& [k, v] : j.members()) {
      if (k == "secretFile" || k == "algorithms" || k == "leeway")
        throw std::runtime_error(
            "config: serviceJwt." + k +
            ": service tokens are checked with the server's auth keys and claim rules; put the "
            "key in the server's auth section (hmacSecretFiles, publicKeys or jwksFiles)");
      if (k != "audience" && k != "issuer")
        throw std::runtime_error("config: serviceJwt: unknown key \"" + k + "\"");
    }
    JwtConfig c;
    if (!j["audience"].is_string() || j["audience"].as_string().empty())
      throw std::runtime_error("config: serviceJwt.audience is required (e.g. \"push\")");
    c.audience = std::string(j["audience"].as_string());
    if (j.contains("issuer")) {
      if (!j["issuer"].is_string())
        throw std::runtime_error("config: serviceJwt.issuer must be a string");
      c.issuer = std::string(j["issuer"].as_string());
    }
    return c;
  }

  // Service tokens need the host's verify_token and the server's keys.
  void check_token_support() const {
    const dhl_host* api = host_.api();
    if (!DHL_HOST_HAS(api, verify_token))
      throw std::runtime_error(
          "serviceJwt: this server cannot verify tokens for plugins (dhl_host::verify_token, "
          "added in ABI 1.2): upgrade daheim-live");
    if (api->verify_token(host_.ctx(), dhl::str(""), dhl::str(jwt_->audience), nullptr, nullptr) ==
        DHL_ERR_NOTFOUND)
      throw std::runtime_error(
          "serviceJwt: the server verifies no tokens (its config has no auth section with the "
          "keys)");
  }

  // The C callback: one request, answered synchronously.
  static void on_http(void* user, const dhl_http_request* req, dhl_http_response* res) noexcept {
    auto* self = static_cast<Push*>(user);
    std::string& body = self->response_;
    int status = 500;
    try {
      status = 202;
      body = self->handle(*req);
    } catch (const HttpError& e) {
      status = e.status;
      body = json_error(e.code, e.message);
    } catch (const std::exception& e) {
      self->host_.error(std::string("push failed: ") + e.what());
      status = 500;
      body = json_error("internalServerError", "the push failed");
    } catch (...) {
      status = 500;
      body = json_error("internalServerError", "the push failed");
    }
    res->status = status;
    res->content_type = dhl::str("application/json");
    res->body = dhl::str(body);
  }

  std::string_view header(const dhl_http_request& req, std::string_view name) const {
    return dhl::view(host_.api()->http_header(host_.ctx(), &req, dhl::str(name)));
  }

  void authenticate(const dhl_http_request& req) const {
    std::string_view auth = header(req, "authorization");
    std::string_view remote = dhl::view(req.remote_address);
    auto refuse = [&](std::string_view why) {
      host_.notice("refused a push from " + std::string(remote) + ": " + std::string(why));
      return HttpError{401, "unauthorized", std::string(why)};
    };
    if (auth.empty())
      throw refuse("no Authorization header (expected \"Bearer <service credential>\")");
    constexpr std::string_view scheme = "bearer ";
    if (auth.size() <= scheme.size() || !std::equal(scheme.begin(), scheme.end(), auth.begin(),
                                                    [](char a, char b) { return a == (b | 0x20); }))
      throw refuse("the Authorization scheme must be Bearer");
    std::string_view cred = auth.substr(scheme.size());
    while (!cred.empty() && cred.front() == ' ') cred.remove_prefix(1);
    while (!cred.empty() && cred.back() == ' ') cred.remove_suffix(1);
    if (!bearer_.empty() && same_secret(cred, bearer_)) return;
    if (jwt_ && std::count(cred.begin(), cred.end(), '.') == 2) {
      std::string why = verify_jwt(host_.api(), host_.ctx(), *jwt_, cred);
      if (why.empty()) return;
      throw refuse("service token refused: " + why);
    }
    throw refuse("bad service credential");
  }

  static std::string user_id(const dhl::Json& v, std::string_view field) {
    if (v.is_string() && !v.as_string().empty()) return std::string(v.as_string());
    if (v.is_int()) return std::to_string(v.as_int());
    throw HttpError{400, "bad_target",
                    std::string(field) + " must be a user id (a non-empty string)"};
  }

  std::string handle(const dhl_http_request& req) {
    authenticate(req);
    std::string_view text = dhl::view(req.body);
    if (text.size() > max_body_)
      throw HttpError{413, "payload_too_large",
                      "the body is larger than " + std::to_string(max_body_) + " bytes"};
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
      throw HttpError{400, "bad_json", "the body is empty (expected a JSON object)"};
    std::string parse_error;
    std::optional<dhl::Json> parsed = dhl::Json::parse(text, {}, &parse_error);
    if (!parsed) throw HttpError{400, "bad_json", "the body is not JSON: " + parse_error};
    const dhl::Json& msg = *parsed;
    if (!msg.is_object()) throw HttpError{400, "bad_json", "the body must be a JSON object"};
    for (const auto& [k, v] : msg.members())
      if (k != "to" && k != "event" && k != "data" && k != "webPush")
        throw HttpError{400, "unknown_field",
                        "unknown field \"" + k + "\" (expected to, event, data, webPush)"};
    std::optional<dhl::Json> web_push;
    if (const dhl::Json* w = msg.find("webPush")) web_push = read_web_push(*w);

    const dhl::Json* to = msg.find("to");
    if (to == nullptr)
      throw HttpError{400, "missing_target",
                      "\"to\" is required: {user}, {users}, {room} or {all: true}"};
    if (!to->is_object())
      throw HttpError{400, "bad_target",
                      "\"to\" must be an object: {user}, {users}, {room} or {all: true}"};
    for (const auto& [k, v] : to->members())
      if (k != "user" && k != "users" && k != "room" && k != "all")
        throw HttpError{400, "unknown_field",
                        "unknown field \"to." + k + "\" (expected user, users, room or all)"};
    if (to->size() == 0)
      throw HttpError{400, "missing_target",
                      "\"to\" names no target: give user, users, room or all"};
    if (to->size() > 1)
      throw HttpError{400, "bad_target", "\"to\" must name exactly one of user, users, room, all"};

    const dhl::Json* event = msg.find("event");
    if (event == nullptr) throw HttpError{400, "missing_event", "\"event\" is required"};
    if (!event->is_string() || event->as_string().empty() || event->as_string().size() > 256)
      throw HttpError{400, "bad_event", "\"event\" must be a non-empty string (at most 256 bytes)"};
    if (reserved_event(event->as_string()))
      throw HttpError{400, "bad_event",
                      "\"" + std::string(event->as_string()) + "\" is a reserved event name"};

    dhl::Json args = dhl::Json::array();
    if (const dhl::Json* data = msg.find("data")) args.push_back(*data);

    dhl::Target target;  // no rooms: the whole namespace
    target.nsp = nsp_;
    std::optional<std::size_t> known;  // sockets reached, as far as this plugin can tell
    std::string what;
    std::vector<std::string> users;  // the user targets, for webPush
    if (const dhl::Json* u = to->find("user")) {
      std::string id = user_id(*u, "to.user");
      users.push_back(id);
      target.rooms.push_back(DHL_USER_ROOM_PREFIX + id);
      known = user_sockets(id);
      what = "user " + id;
    } else if (const dhl::Json* us = to->find("users")) {
      if (!us->is_array() || us->size() == 0)
        throw HttpError{400, "bad_target", "to.users must be a non-empty array of user ids"};
      if (us->size() > max_users_)
        throw HttpError{400, "bad_target",
                        "to.users lists more than " + std::to_string(max_users_) + " users"};
      std::set<std::string> ids;
      for (const dhl::Json& x : us->items()) ids.insert(user_id(x, "to.users[]"));
      known = 0;
      for (const std::string& id : ids) {
        target.rooms.push_back(DHL_USER_ROOM_PREFIX + id);
        *known += user_sockets(id);
        users.push_back(id);
      }
      what = std::to_string(ids.size()) + " users";
    } else if (const dhl::Json* r = to->find("room")) {
      if (!r->is_string() || r->as_string().empty() || r->as_string().size() > 256)
        throw HttpError{400, "bad_target",
                        "to.room must be a non-empty string (at most 256 bytes)"};
      target.rooms.emplace_back(r->as_string());
      known = room_size(target.rooms.back());
      what = "room " + target.rooms.back();
    } else {
      const dhl::Json& all = (*to)["all"];
      if (!all.is_bool() || !all.as_bool())
        throw HttpError{400, "bad_target", "to.all must be true"};
      auto it = tally_.find(nsp_);
      known = it == tally_.end() ? 0 : it->second.sockets;
      what = "everybody";
    }

    if (web_push && users.empty())
      throw HttpError{400, "bad_target", "webPush needs to.user or to.users"};

    dhl::detail::TargetView view(target);  // the C struct, viewing `target`
    std::optional<std::size_t> reached = host_count(host_.api(), host_.ctx(), &view.c);
    if (!reached) reached = known;
    // In a cluster the count comes from every node, later: the request is
    // answered when it is known (ABI 1.4), after the event went out.
    bool count_everywhere = host_.clustered() && DHL_HOST_HAS(host_.api(), http_reply);
    // In a cluster the answer also waits until the event is in the log (the
    // streams adapter's XADD answered, ABI 1.5): a 202 is never lost.
    std::shared_ptr<Counting> counting;
    int rc = DHL_OK;
    if (count_everywhere) {
      counting = std::make_shared<Counting>();
      counting->await_log = true;
      rc = host_.emit_to_logged(target, event->as_string(), args, [this, counting](int status) {
        counting->logged = status;
        finish(*counting);
      });
    } else {
      rc = host_.api()->emit_to(host_.ctx(), &view.c, dhl::str(event->as_string()),
                                dhl::Encoded(args).get());
    }
    if (rc == DHL_ERR_UNAVAILABLE) {
      throw HttpError{503, "unavailable",
                      "the event was not sent: Redis (the cluster's event log) is unreachable"};
    } else if (rc == DHL_ERR_NOTFOUND) {
      reached = 0;  // no socket of this namespace was ever dispatched to plugins
    } else if (rc == DHL_ERR_INVALID) {
      throw HttpError{400, "bad_data",
                      "\"data\" cannot be sent (binary placeholders are not allowed)"};
    } else if (rc != DHL_OK) {
      throw HttpError{400, "bad_event", "the event was refused (error " + std::to_string(rc) + ")"};
    }
    if (counting && (rc != DHL_OK || !count_on_every_node(req, target, *reached, counting)))
      counting.reset();
    if (!counting) {
      std::string n = reached ? std::to_string(*reached) : "an unknown number of";
      host_.debug("push " + std::string(event->as_string()) + " to " + what + ": " + n +
                  " socket(s)");
    }
    dhl::Json answer = dhl::Json::object(
        {{"sockets", reached ? dhl::Json(static_cast<int64_t>(*reached)) : dhl::Json()}});
    std::function<dhl::Json()> notify;
    if (web_push) {
      const dhl::Json* data = msg.find("data");
      notify = [this, options = std::move(*web_push), users, name = std::string(event->as_string()),
                data = data ? std::optional<dhl::Json>(*data) : std::nullopt]() mutable {
        return send_web_push(std::move(options), users, name, data ? &*data : nullptr);
      };
    }
    if (counting) {
      // The Web Push goes out with the 202, never with a 503.
      counting->answer = std::move(answer);
      counting->web_push = std::move(notify);
      counting->what = std::string(event->as_string()) + " to " + what;
      finish(*counting);
      return {};  // deferred: this return value is not sent
    }
    if (notify) answer["webPush"] = notify();
    return answer.dump();
  }

  // A push answered once every node counted its sockets and the event is in
  // the cluster's log.
  struct Counting {
    dhl::HttpReply reply;
    std::optional<dhl::Json> answer;  // everything but the count, once built
    std::optional<int64_t> count;
    bool complete = true;
    bool await_log = false;
    std::optional<int> logged;            // emit_to_logged's status
    std::function<dhl::Json()> web_push;  // sends it; its answer's "webPush"
    std::string what;
  };

  // Defers the request and counts the target's sockets on every node; false
  // when the host cannot (the request is then answered with this node's).
  bool count_on_every_node(const dhl_http_request& req, const dhl::Target& target,
                           std::size_t local, std::shared_ptr<Counting> counting) {
    dhl_http_reply* r = host_.api()->http_defer(host_.ctx(), &req);
    if (r == nullptr) return false;
    counting->reply = dhl::HttpReply(host_, r);
    int rc = host_.target_count(target, [this, counting](int64_t n, bool complete) {
      counting->count = n;
      counting->complete = complete;
      finish(*counting);
    });
    if (rc != DHL_OK) {  // not expected after a successful emit: say what this node knows
      counting->count = static_cast<int64_t>(local);
      counting->complete = false;
    }
    return true;
  }

  // Answers when the answer, the count and the log's answer are there (any
  // may come first, before count_on_every_node returns).
  void finish(Counting& c) {
    if (!c.answer || !c.count || !c.reply || (c.await_log && !c.logged)) return;
    if (c.logged && *c.logged != DHL_OK) {
      host_.warning("push " + c.what + ": " +
                    (*c.logged == DHL_ERR_TIMEOUT ? "Redis did not confirm it in time"
                                                  : "Redis did not take it"));
      c.reply.send({503, "application/json",
                    *c.logged == DHL_ERR_TIMEOUT
                        ? json_error("timeout",
                                     "Redis did not confirm the event within "
                                     "cluster.requestsTimeout: it may still be delivered")
                        : json_error("unavailable",
                                     "Redis did not take the event (refused, or the connection "
                                     "was lost): it may not be delivered")});
      return;
    }
    (*c.answer)["sockets"] = *c.count;
    (*c.answer)["complete"] = c.complete;
    if (c.web_push) (*c.answer)["webPush"] = std::exchange(c.web_push, nullptr)();
    host_.debug("push " + c.what + ": " + std::to_string(*c.count) + " socket(s) on every node" +
                (c.complete ? "" : " that answered"));
    c.reply.send({202, "application/json", c.answer->dump()});
  }

  // webPush: true, or {"data", "ttl", "urgency", "topic"}: checked here,
  // before anything is delivered. The options without "data" / the data.
  static dhl::Json read_web_push(const dhl::Json& w) {
    auto bad = [](std::string why) { return HttpError{400, "bad_webpush", "webPush: " + why}; };
    if (w.is_bool() && w.as_bool()) return dhl::Json::object();
    if (!w.is_object()) throw bad("expected true or an object {data, ttl, urgency, topic}");
    for (const auto& [k, v] : w.members()) {
      if (k == "data") continue;
      if (k == "ttl") {
        if (!v.is_int() || v.as_int() < 0 || v.as_int() > 28 * 24 * 3600)
          throw bad("ttl must be seconds from 0 to 2419200");
      } else if (k == "urgency") {
        std::string_view u = v.as_string();
        if (u != "very-low" && u != "low" && u != "normal" && u != "high")
          throw bad("urgency must be very-low, low, normal or high");
      } else if (k == "topic") {
        std::string_view t = v.as_string();
        bool ok = v.is_string() && !t.empty() && t.size() <= 32;
        for (char c : t)
          ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
        if (!ok) throw bad("topic must be 1 to 32 base64url characters");
      } else {
        throw bad("unknown field \"" + k + "\" (expected data, ttl, urgency, topic)");
      }
    }
    return w;
  }

  // Hands the notification to the webpush plugin through the host; it goes
  // to the subscriptions of those users who have no socket on this server.
  dhl::Json send_web_push(dhl::Json options, const std::vector<std::string>& users,
                          std::string_view event, const dhl::Json* data) {
    dhl::Json request = dhl::Json::object();
    dhl::Json list = dhl::Json::array();
    for (const std::string& u : users) list.push_back(u);
    request["users"] = std::move(list);
    if (const dhl::Json* d = options.find("data")) {
      request["data"] = *d;
    } else {
      dhl::Json n = dhl::Json::object({{"event", event}});
      if (data) n["data"] = *data;
      request["data"] = std::move(n);
    }
    for (const char* k : {"ttl", "urgency", "topic"})
      if (const dhl::Json* v = options.find(k)) request[k] = *v;
    request["onlyOffline"] = true;
    int rc = host_.send_message(web_push_plugin_, "send", request);
    if (rc >= 0) return dhl::Json::object({{"queued", rc}});
    if (rc == DHL_ERR_NOTFOUND) {
      host_.warning("webPush asked for, but no plugin \"" + web_push_plugin_ + "\" takes it");
      return dhl::Json::object({{"error", "unavailable"}});
    }
    return dhl::Json::object({{"error", "refused"}});  // the webpush plugin logged why
  }

  std::size_t user_sockets(const std::string& id) const {
    auto it = tally_.find(nsp_);
    if (it == tally_.end()) return 0;
    auto u = it->second.users.find(id);
    return u == it->second.users.end() ? 0 : u->second;
  }

  // How many sockets of the namespace are in `room`, when this plugin can
  // know: the host tells plugins nothing of the rooms other plugins join,
  // only the rooms it joins itself ("user-<id>", each socket's own id).
  std::optional<std::size_t> room_size(const std::string& room) const {
    std::string_view prefix = DHL_USER_ROOM_PREFIX;
    if (room.size() > prefix.size() && room.compare(0, prefix.size(), prefix) == 0)
      return user_sockets(room.substr(prefix.size()));
    if (host_.find(nsp_, room)) return 1;
    return std::nullopt;
  }

  dhl::Host& host_;
  std::string path_ = "/api/v1/push";
  std::string nsp_ = "/";
  std::size_t max_body_ = 65536;
  std::size_t max_users_ = 1000;
  std::string web_push_plugin_ = "webpush";
  std::string bearer_;
  std::optional<JwtConfig> jwt_;
  std::map<std::string, Tally, std::less<>> tally_;
  std::string response_;  // the body of the response being answered
};

}  // namespace

DHL_PLUGIN(Push, "push", "1.0.0")
