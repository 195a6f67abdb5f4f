// The C++20 layer over the plugin C ABI (header-only). A plugin is a class
// whose `$`-methods take the socket and the event's arguments and return the
// ack:
//
//   #include <daheim/plugin.hpp>
//
//   class Greeter {
//    public:
//     explicit Greeter(dhl::Host& host) : host_(host), pool_(host, 2) {}
//     void onConnect(dhl::Socket& socket) { socket.emit("hello", "welcome"); }
//     void onDisconnect(dhl::Socket& socket, std::string_view reason) {}
//     dhl::Json greet(dhl::Socket&, const dhl::Json& args) {       // "greet" -> ack
//       if (!args[0].is_string()) throw dhl::Error("badRequest");  // -> {"error":"badRequest"}
//       return dhl::Json::object({{"hello", args[0]}});
//     }
//     int onMessage(std::string_view from, std::string_view topic,  // another plugin's
//                   const dhl::Json& data) { return DHL_OK; }        // send_message
//     dhl::Future slow(dhl::Socket&, const dhl::Json& args) {      // answered later
//       return pool_.async([args] { return args[0]; });           // runs on a worker
//     }
//    private:
//     dhl::Host& host_;
//     dhl::WorkerPool pool_;
//   };
//
//   DHL_PLUGIN(Greeter, "greeter", "1.0.0",
//              dhl::method<&Greeter::greet>("$greet"),
//              dhl::method<&Greeter::slow>("$slow"))
//
// Method forms: R m(Socket&, const Json& args), R m(Socket&, Call&) or
// R m(Socket&). R is void ("nothing returned"), anything convertible to Json
// (the ack is [value]), AckArgs (the ack's whole argument list) or Future
// (answered when its Promise is settled, from any thread). A thrown
// dhl::Error("code") answers {"error":"code"}; any other exception answers
// {"error":"internalServerError"} and is logged. No exception crosses the ABI.
//
// Threads: every callback runs on the server's loop thread and must not
// block. Promise, Reply, Host::post and Host::log may be used from any
// thread; everything else only on the loop thread. Join your threads in the
// destructor (WorkerPool does): the host calls none of your code after it.
#pragma once

#include <daheim/plugin.h>
#include <daheim/json.hpp>

#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace dhl {

inline dhl_str str(std::string_view s) {
  return dhl_str{s.data(), s.size()};
}
inline std::string_view view(dhl_str s) {
  return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}

// A coded error: the client gets {"error": code}.
class Error : public std::runtime_error {
 public:
  explicit Error(std::string code) : std::runtime_error(code), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

enum class Level : int {
  Error = DHL_LOG_ERROR,
  Warning = DHL_LOG_WARNING,
  Notice = DHL_LOG_NOTICE,
  Info = DHL_LOG_INFO,
  Debug = DHL_LOG_DEBUG,
};

// A return value that is the ack's whole argument list (a JSON array), not
// its first argument.
struct AckArgs {
  Json args;
};

// Arguments encoded for the ABI: JSON text with placeholders + attachments.
// Not copyable or movable: `get()` points into it.
class Encoded {
 public:
  explicit Encoded(const Json& args_array) {
    if (args_array.is_array()) args_array.dump_to(text_, &attachments_);
    for (const std::string& a : attachments_) views_.push_back(str(a));
    payload_ = {text_.data(), text_.size(), views_.data(), views_.size()};
  }
  Encoded(const Encoded&) = delete;
  Encoded& operator=(const Encoded&) = delete;
  const dhl_payload* get() const { return &payload_; }

 private:
  std::string text_;
  std::vector<std::string> attachments_;
  std::vector<dhl_str> views_;
  dhl_payload payload_{};
};

// The arguments of a payload as a Json array (binary attachments resolved).
inline Json decode(const dhl_payload* p) {
  if (p == nullptr || p->json_len == 0) return Json::array();
  std::vector<std::string_view> att;
  for (std::size_t i = 0; i < p->attachment_count; ++i)
    att.emplace_back(p->attachments[i].ptr, p->attachments[i].len);
  std::optional<Json> j = Json::parse(std::string_view(p->json, p->json_len), att);
  return j && j->is_array() ? std::move(*j) : Json::array();
}

template <typename... A>
Json args_of(A&&... args) {
  return Json::array({Json(std::forward<A>(args))...});
}

class Socket;

// Who a broadcast goes to (see dhl_target).
struct Target {
  std::string nsp = "/";
  std::vector<std::string> rooms;   // empty: the whole namespace
  std::vector<std::string> except;  // rooms (or socket ids) left out
  bool volatile_ = false;
  bool local = false;
};

// One socket's answer to an emit with ack: its arguments, or nullopt when it
// timed out or the socket left.
using AckCallback = std::function<void(std::optional<Json> answer)>;
// The answers to a broadcast with ack (timed_out: some clients did not answer).
using BroadcastAckCallback = std::function<void(bool timed_out, std::vector<Json> answers)>;

namespace detail {

template <typename F>
void guarded(const dhl_host* api, dhl_ctx* ctx, const char* what, F&& f) noexcept {
  auto report = [&](std::string_view msg) {
    std::string line = std::string(what) + " threw: " + std::string(msg);
    api->log(ctx, DHL_LOG_ERROR, str(line));
  };
  try {
    f();
  } catch (const std::exception& e) {
    report(e.what());
  } catch (...) {
    report("unknown exception");
  }
}

inline void run_task(void* user) {
  std::unique_ptr<std::function<void()>> task(static_cast<std::function<void()>*>(user));
  (*task)();
}

struct AckBox {
  const dhl_host* api;
  dhl_ctx* ctx;
  AckCallback fn;
};

inline void on_ack(void* user, int status, const dhl_payload* answer) {
  std::unique_ptr<AckBox> box(static_cast<AckBox*>(user));
  guarded(box->api, box->ctx, "ack callback", [&] {
    if (status == DHL_OK)
      box->fn(decode(answer));
    else
      box->fn(std::nullopt);
  });
}

struct BroadcastAckBox {
  const dhl_host* api;
  dhl_ctx* ctx;
  BroadcastAckCallback fn;
};

inline void on_broadcast_ack(void* user, int status, const dhl_payload* answers, size_t n) {
  std::unique_ptr<BroadcastAckBox> box(static_cast<BroadcastAckBox*>(user));
  guarded(box->api, box->ctx, "broadcast ack callback", [&] {
    std::vector<Json> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(decode(&answers[i]));
    box->fn(status != DHL_OK, std::move(out));
  });
}

// Views over a Target, for the ABI.
struct TargetView {
  explicit TargetView(const Target& t) {
    for (const std::string& r : t.rooms) rooms.push_back(str(r));
    for (const std::string& r : t.except) except.push_back(str(r));
    c = {str(t.nsp),
         rooms.data(),
         rooms.size(),
         except.data(),
         except.size(),
         (t.volatile_ ? DHL_TARGET_VOLATILE : 0u) | (t.local ? DHL_TARGET_LOCAL : 0u)};
  }
  std::vector<dhl_str> rooms;
  std::vector<dhl_str> except;
  dhl_target c{};
};

}  // namespace detail

// A Redis reply (RESP2), copied out of the host's.
struct RedisReply {
  int type = DHL_REDIS_NIL;  // DHL_REDIS_*
  int64_t integer = 0;
  std::string str;  // STRING, STATUS, ERROR (binary-safe)
  std::vector<RedisReply> elements;

  static RedisReply from(const dhl_redis_reply* r) {
    RedisReply out;
    if (!r) return out;
    out.type = r->type;
    out.integer = r->integer;
    out.str = std::string(view(r->str));
    for (std::size_t i = 0; i < r->element_count; ++i)
      out.elements.push_back(from(&r->elements[i]));
    return out;
  }
  bool is_nil() const { return type == DHL_REDIS_NIL; }
  bool is_error() const { return type == DHL_REDIS_ERROR; }
  bool is_array() const { return type == DHL_REDIS_ARRAY; }
  const RedisReply& operator[](std::size_t i) const {
    static const RedisReply kNil;
    return i < elements.size() ? elements[i] : kNil;
  }
};
using RedisCallback = std::function<void(int status, const RedisReply& reply)>;

namespace detail {

struct RedisBox {
  const dhl_host* api;
  dhl_ctx* ctx;
  RedisCallback fn;
};

inline void on_redis(void* user, int status, const dhl_redis_reply* reply) {
  std::unique_ptr<RedisBox> box(static_cast<RedisBox*>(user));
  guarded(box->api, box->ctx, "redis callback", [&] { box->fn(status, RedisReply::from(reply)); });
}

inline std::vector<dhl_str> strs(const std::vector<std::string>& v) {
  std::vector<dhl_str> out;
  for (const std::string& s : v) out.push_back({s.data(), s.size()});
  return out;
}

}  // namespace detail

// The server, as one plugin sees it. One per plugin, alive from the
// constructor of the plugin class to the end of its destructor.
class Host {
 public:
  Host(dhl_ctx* ctx, const dhl_host* api) : ctx_(ctx), api_(api) {}

  dhl_ctx* ctx() const { return ctx_; }
  const dhl_host* api() const { return api_; }

  // [any thread]
  void log(Level level, std::string_view message) const {
    api_->log(ctx_, static_cast<int>(level), str(message));
  }
  void error(std::string_view m) const { log(Level::Error, m); }
  void warning(std::string_view m) const { log(Level::Warning, m); }
  void notice(std::string_view m) const { log(Level::Notice, m); }
  void info(std::string_view m) const { log(Level::Info, m); }
  void debug(std::string_view m) const { log(Level::Debug, m); }

  // [any thread] The plugin's config value (null when none was given).
  std::string_view config_text() const { return view(api_->config(ctx_)); }
  Json config() const { return Json::parse(config_text()).value_or(Json()); }

  // [any thread] Runs `task` on the loop thread. false: the server is
  // stopping and the task was dropped.
  bool post(std::function<void()> task) const {
    auto* box = new std::function<void()>([api = api_, ctx = ctx_, t = std::move(task)] {
      detail::guarded(api, ctx, "posted task", t);
    });
    if (api_->post(ctx_, &detail::run_task, box) == DHL_OK) return true;
    delete box;
    return false;
  }

  // The connected socket `id` of `nsp`, valid until control returns to the loop.
  std::optional<Socket> find(std::string_view nsp, std::string_view id) const;

  int emit_to_args(const Target& target, std::string_view event, const Json& args) const {
    detail::TargetView t(target);
    Encoded e(args);
    return api_->emit_to(ctx_, &t.c, str(event), e.get());
  }
  template <typename... A>
  int emit_to(const Target& target, std::string_view event, A&&... args) const {
    return emit_to_args(target, event, args_of(std::forward<A>(args)...));
  }
  // [loop] emit_to, and fn(status) runs once on the loop when the event is in
  // the cluster's log (ABI 1.5, dhl_host::emit_to_logged: DHL_OK, or
  // DHL_ERR_UNAVAILABLE / DHL_ERR_TIMEOUT). On one node, or on an older host
  // (emit_to, then DHL_OK), fn runs before this returns. Not DHL_OK: fn
  // never runs (DHL_ERR_UNAVAILABLE: Redis is unreachable, nothing sent).
  int emit_to_logged(const Target& target, std::string_view event, const Json& args,
                     std::function<void(int status)> fn) const;
  template <typename... A>
  int emit_to_room(std::string_view nsp, std::string_view room, std::string_view event,
                   A&&... args) const {
    return emit_to(Target{std::string(nsp), {std::string(room)}, {}}, event,
                   std::forward<A>(args)...);
  }
  template <typename... A>
  int emit_to_user(std::string_view nsp, std::string_view user_id, std::string_view event,
                   A&&... args) const {
    Encoded e(args_of(std::forward<A>(args)...));
    return api_->emit_to_user(ctx_, str(nsp), str(user_id), str(event), e.get());
  }
  int emit_to_with_ack(const Target& target, std::string_view event, const Json& args,
                       std::chrono::milliseconds timeout, BroadcastAckCallback fn) const {
    detail::TargetView t(target);
    Encoded e(args);
    auto* box = new detail::BroadcastAckBox{api_, ctx_, std::move(fn)};
    int rc = api_->emit_to_with_ack(ctx_, &t.c, str(event), e.get(), clamp_ms(timeout),
                                    &detail::on_broadcast_ack, box);
    if (rc != DHL_OK) delete box;
    return rc;
  }

  uint64_t now_ms() const { return api_->now_ms(ctx_); }

  // [loop] Hands `data` to the plugin named `plugin` (its onMessage runs
  // before this returns): what it answered (0 or more, or a DHL_ERR_*);
  // DHL_ERR_NOTFOUND when no such plugin takes messages (or the server
  // predates ABI 1.3).
  int send_message(std::string_view plugin, std::string_view topic, const Json& data) const {
    if (!DHL_HOST_HAS(api_, send_message)) return DHL_ERR_NOTFOUND;
    std::string text = data.dump();
    return api_->send_message(ctx_, str(plugin), str(topic), str(text));
  }

  // ---- Plugins in a cluster (ABI 1.3; on an older host: one node) ----
  bool has_cluster_api() const { return DHL_HOST_HAS(api_, node_answer); }
  // [any thread] True when the server runs as a cluster node.
  bool clustered() const { return has_cluster_api() && api_->node_clustered(ctx_) == 1; }
  // [any thread] This node's id (unique per process run).
  std::string_view node_id() const {
    return has_cluster_api() ? view(api_->node_id(ctx_)) : std::string_view();
  }
  // [loop] One Redis command through the host's connection; `fn` runs once
  // on the loop with the status (DHL_OK, DHL_ERR_REDIS, DHL_ERR_TIMEOUT,
  // DHL_ERR_UNAVAILABLE, DHL_ERR_GONE) and the reply (nil on failure). Not
  // DHL_OK: fn never runs. timeout 0: the host's default.
  int redis(const std::vector<std::string>& argv, RedisCallback fn,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const;
  // [loop] A Lua script (EVALSHA, falling back to EVAL).
  int redis_script(std::string_view script, const std::vector<std::string>& keys,
                   const std::vector<std::string>& args, RedisCallback fn,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const;
  // [loop] Sends `event` (JSON arguments, no binary) to this plugin's
  // instances on the other nodes (NodeMessages handlers there).
  int node_emit(std::string_view event, const Json& args = Json::array()) const {
    if (!has_cluster_api()) return DHL_ERR_UNAVAILABLE;
    Encoded e(args);
    return api_->node_emit(ctx_, str(event), e.get(), 0, nullptr, nullptr);
  }
  // [loop] Same, gathering each other node's answer: fn(timed_out, answers).
  int node_emit_with_answers(std::string_view event, const Json& args,
                             std::chrono::milliseconds timeout, BroadcastAckCallback fn) const {
    if (!has_cluster_api()) return DHL_ERR_UNAVAILABLE;
    Encoded e(args);
    auto* box = new detail::BroadcastAckBox{api_, ctx_, std::move(fn)};
    int rc = api_->node_emit(ctx_, str(event), e.get(), clamp_ms(timeout),
                             &detail::on_broadcast_ack, box);
    if (rc != DHL_OK) delete box;
    return rc;
  }

  // ---- Cluster-wide counts (ABI 1.4) ----
  // [loop] How many sockets `target` selects on every node: fn(count,
  // complete) runs once on the loop; complete is false when a node did not
  // answer in time (count is then a lower bound). A single node answers at
  // once. On an older host with target_count (ABI 1.1) this node's count is
  // given, complete only when the server is not clustered. Not DHL_OK: fn
  // never runs.
  int target_count(const Target& target,
                   std::function<void(int64_t count, bool complete)> fn) const;

  static uint32_t clamp_ms(std::chrono::milliseconds t) {
    auto c = t.count();
    return c < 0 ? 0u : c > 0xFFFFFFFFLL ? 0xFFFFFFFFu : static_cast<uint32_t>(c);
  }

 private:
  dhl_ctx* ctx_;
  const dhl_host* api_;
};

// A connected socket, for the duration of the callback that received it.
class Socket {
 public:
  Socket(const Host& host, dhl_socket* socket) : host_(&host), s_(socket) {}

  dhl_socket* handle() const { return s_; }
  const Host& host() const { return *host_; }

  std::string_view info(int key) const { return view(api()->socket_info(ctx(), s_, key)); }
  std::string_view id() const { return info(DHL_INFO_ID); }
  std::string_view nsp() const { return info(DHL_INFO_NAMESPACE); }
  std::string_view address() const { return info(DHL_INFO_ADDRESS); }
  std::string_view url() const { return info(DHL_INFO_URL); }
  std::string_view transport() const { return info(DHL_INFO_TRANSPORT); }
  // The authenticated user's id, empty when the socket has none.
  std::string_view user_id() const { return info(DHL_INFO_USER_ID); }
  bool authenticated() const {
    return api()->socket_info(ctx(), s_, DHL_INFO_CLAIMS).ptr != nullptr;
  }
  // The socket took over a disconnected socket's session (connection-state
  // recovery): same id, rooms and data; false on hosts before ABI 1.2.
  bool recovered() const { return info(DHL_INFO_RECOVERED) == "1"; }
  // What the plugin's saveSession returns for this socket changed: the host
  // stores the session again (in Redis with the streams cluster adapter, so
  // that another node restores it if this one dies). ABI 1.4; before it, or
  // with sessions in memory, nothing happens.
  int session_changed() const {
    return DHL_HOST_HAS(api(), session_changed) ? api()->session_changed(ctx(), s_) : DHL_OK;
  }
  // The CONNECT payload ({} when none) and the token's claims (null if none).
  Json auth() const { return Json::parse(info(DHL_INFO_AUTH)).value_or(Json::object()); }
  Json claims() const { return Json::parse(info(DHL_INFO_CLAIMS)).value_or(Json()); }

  std::optional<std::string_view> header(std::string_view lower_name) const {
    return opt(api()->socket_header(ctx(), s_, str(lower_name)));
  }
  std::optional<std::string_view> query(std::string_view name) const {
    return opt(api()->socket_query(ctx(), s_, str(name)));
  }
  using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;
  Pairs headers() const { return pairs(api()->socket_header_at); }
  Pairs query_params() const { return pairs(api()->socket_query_at); }

  int emit_args(std::string_view event, const Json& args) const {
    Encoded e(args);
    return emit_raw(event, e.get());
  }
  // Emits arguments already encoded (e.g. a Call's raw payload, forwarded).
  int emit_raw(std::string_view event, const dhl_payload* args) const {
    return api()->emit(ctx(), s_, str(event), args);
  }
  template <typename... A>
  int emit(std::string_view event, A&&... args) const {
    return emit_args(event, args_of(std::forward<A>(args)...));
  }
  int emit_with_ack(std::string_view event, const Json& args, std::chrono::milliseconds timeout,
                    AckCallback fn) const {
    Encoded e(args);
    auto* box = new detail::AckBox{api(), ctx(), std::move(fn)};
    int rc = api()->emit_with_ack(ctx(), s_, str(event), e.get(), Host::clamp_ms(timeout),
                                  &detail::on_ack, box);
    if (rc != DHL_OK) delete box;
    return rc;
  }

  int join(std::string_view room) const { return api()->join(ctx(), s_, str(room)); }
  int leave(std::string_view room) const { return api()->leave(ctx(), s_, str(room)); }
  int disconnect(bool close_transport = false) const {
    return api()->disconnect(ctx(), s_, close_transport ? 1 : 0);
  }

  // This plugin's raw pointer for the socket (see socket_set_data).
  void* data() const { return api()->socket_data(ctx(), s_); }
  void set_data(void* p) const { api()->socket_set_data(ctx(), s_, p); }
  // The per-socket state of a plugin class that declares `using SocketState
  // = S;` (created before onConnect, destroyed after onDisconnect).
  template <typename S>
  S& state() const {
    return *static_cast<S*>(data());
  }

 private:
  dhl_ctx* ctx() const { return host_->ctx(); }
  const dhl_host* api() const { return host_->api(); }
  static std::optional<std::string_view> opt(dhl_str s) {
    if (!s.ptr) return std::nullopt;
    return std::string_view(s.ptr, s.len);
  }
  template <typename F>
  Pairs pairs(F at) const {
    Pairs out;
    dhl_str n{}, v{};
    for (std::size_t i = 0; at(ctx(), s_, i, &n, &v) == DHL_OK; ++i)
      out.emplace_back(view(n), view(v));
    return out;
  }

  const Host* host_;
  dhl_socket* s_;
};

inline std::optional<Socket> Host::find(std::string_view nsp, std::string_view id) const {
  dhl_socket* s = api_->socket_find(ctx_, str(nsp), str(id));
  if (!s) return std::nullopt;
  return Socket(*this, s);
}

// A deferred call: answer it once, from any thread. Destroying an unanswered
// Reply answers {"error":"internalServerError"} (and logs it).
class Reply {
 public:
  Reply() = default;
  Reply(const Host& host, dhl_call* call) : ctx_(host.ctx()), api_(host.api()), call_(call) {}
  Reply(Reply&& o) noexcept : ctx_(o.ctx_), api_(o.api_), call_(std::exchange(o.call_, nullptr)) {}
  Reply& operator=(Reply&& o) noexcept {
    if (this != &o) {
      abandon();
      ctx_ = o.ctx_;
      api_ = o.api_;
      call_ = std::exchange(o.call_, nullptr);
    }
    return *this;
  }
  ~Reply() { abandon(); }

  explicit operator bool() const { return call_ != nullptr; }
  bool wants_ack() const { return call_ && api_->call_wants_ack(ctx_, call_) == 1; }

  int resolve(const Json& value) { return resolve_args(Json::array({value})); }
  int resolve_args(const Json& args) {
    if (!call_) return DHL_ERR_DONE;
    Encoded e(args);
    return finish(api_->reply(ctx_, call_, e.get()));
  }
  int reject(std::string_view code) {
    if (!call_) return DHL_ERR_DONE;
    return finish(api_->reply_error(ctx_, call_, str(code)));
  }
  // "Nothing returned" (the client gets [null] if it asked for an ack).
  int none() { return call_ ? finish(api_->reply(ctx_, call_, nullptr)) : DHL_ERR_DONE; }

 private:
  int finish(int rc) {
    if (rc != DHL_ERR_INVALID) call_ = nullptr;
    return rc;
  }
  void abandon() {
    if (!call_) return;
    api_->log(ctx_, DHL_LOG_ERROR, str("a deferred call was dropped without an answer"));
    reject("internalServerError");
  }

  dhl_ctx* ctx_ = nullptr;
  const dhl_host* api_ = nullptr;
  dhl_call* call_ = nullptr;
};

namespace detail {

// How a call ends.
struct Outcome {
  enum class Kind : uint8_t { Value, Args, Error, Nothing, Internal } kind = Kind::Nothing;
  Json value;        // Value, Args
  std::string text;  // Error: the code; Internal: what to log
};

inline int deliver(Reply& reply, const Outcome& o) {
  switch (o.kind) {
    case Outcome::Kind::Value:
      return reply.resolve(o.value);
    case Outcome::Kind::Args:
      return reply.resolve_args(o.value);
    case Outcome::Kind::Error:
      return reply.reject(o.text);
    case Outcome::Kind::Nothing:
      return reply.none();
    case Outcome::Kind::Internal:
      return reply.reject("internalServerError");
  }
  return DHL_ERR_INVALID;
}

struct FutureState {
  std::mutex mutex;
  std::optional<Outcome> outcome;
  Reply reply;
  const Host* host = nullptr;  // set when attached, for logging
  bool attached = false;
  bool delivered = false;
};

}  // namespace detail

class Future;

// The producing side of a Future; settle it once, from any thread. Dropping
// an unsettled Promise answers {"error":"internalServerError"}.
class Promise {
 public:
  Promise() : s_(std::make_shared<detail::FutureState>()) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&& o) noexcept {
    if (this != &o) {
      drop();
      s_ = std::move(o.s_);
    }
    return *this;
  }
  ~Promise() { drop(); }

  Future future() const;
  void resolve(Json value) { settle({detail::Outcome::Kind::Value, std::move(value), {}}); }
  void resolve_args(Json args) { settle({detail::Outcome::Kind::Args, std::move(args), {}}); }
  void reject(std::string code) { settle({detail::Outcome::Kind::Error, {}, std::move(code)}); }
  void none() { settle({detail::Outcome::Kind::Nothing, {}, {}}); }
  // Answers internalServerError and logs `what`.
  void fail(std::string what) { settle({detail::Outcome::Kind::Internal, {}, std::move(what)}); }

  void settle(detail::Outcome o) const {
    if (!s_) return;
    std::unique_lock lock(s_->mutex);
    if (s_->outcome || s_->delivered) return;
    if (!s_->attached) {
      s_->outcome = std::move(o);
      return;
    }
    s_->delivered = true;
    Reply reply = std::move(s_->reply);
    const Host* host = s_->host;
    lock.unlock();
    if (o.kind == detail::Outcome::Kind::Internal && host) host->error(o.text);
    detail::deliver(reply, o);
  }

 private:
  // Promise is move-only, so the last holder is dropping it: nobody else can
  // settle it any more (settle() ignores this when it was settled).
  void drop() {
    if (s_) fail("a promise was dropped unsettled");
    s_.reset();
  }
  std::shared_ptr<detail::FutureState> s_;
};

// What a method returns to answer later: settled by its Promise.
class Future {
 public:
  explicit Future(std::shared_ptr<detail::FutureState> s) : s_(std::move(s)) {}
  // An already settled future.
  static Future ready(Json value) {
    Promise p;
    Future f = p.future();
    p.resolve(std::move(value));
    return f;
  }
  const std::shared_ptr<detail::FutureState>& state() const { return s_; }

 private:
  std::shared_ptr<detail::FutureState> s_;
};

inline Future Promise::future() const {
  return Future(s_);
}

// The call a method is answering, for methods that take `Call&`: its raw
// payload, whether an ack is wanted, and defer() to answer later.
class Call {
 public:
  Call(const Host& host, dhl_call* call, const dhl_payload* args)
      : host_(host), call_(call), args_(args) {}
  const dhl_payload& raw() const { return *args_; }
  Json args() const { return decode(args_); }
  bool wants_ack() const { return host_.api()->call_wants_ack(host_.ctx(), call_) == 1; }
  dhl_call* handle() const { return call_; }
  // Answers now with arguments already encoded (e.g. raw(), echoed).
  int reply_raw(const dhl_payload* result) {
    return host_.api()->reply(host_.ctx(), call_, result);
  }
  // Answer later (Reply is thread-safe to hand over). An empty Reply if the
  // call was already answered or deferred.
  Reply defer() {
    dhl_call* d = host_.api()->call_defer(host_.ctx(), call_);
    return d ? Reply(host_, d) : Reply();
  }

 private:
  const Host& host_;
  dhl_call* call_;
  const dhl_payload* args_;
};

// A small thread pool for blocking work. async(fn) runs fn on a worker and
// answers the call with its result (or its exception, as a method would).
// At most `max_queued` jobs wait (default 10,000): beyond, run() returns
// false without queueing and async() answers {"error":"overloaded"} at once.
// The destructor finishes the queued work and joins the threads.
class WorkerPool {
 public:
  static constexpr std::size_t kDefaultMaxQueued = 10000;

  WorkerPool(const Host& host, unsigned threads, std::size_t max_queued = kDefaultMaxQueued)
      : host_(host), max_queued_(max_queued ? max_queued : 1) {
    for (unsigned i = 0; i < (threads ? threads : 1); ++i)
      threads_.emplace_back([this] { work(); });
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // false: the queue is full (the job is not run).
  bool run(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      if (jobs_.size() >= max_queued_) return false;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }

  template <typename F>
  Future async(F fn) {
    auto promise = std::make_shared<Promise>();
    Future f = promise->future();
    if (!run([promise, fn = std::move(fn)]() mutable { settle_with(*promise, fn); }))
      promise->reject("overloaded");
    return f;
  }

  std::size_t queued() const {
    std::lock_guard lock(mutex_);
    return jobs_.size();
  }

  template <typename F>
  static void settle_with(Promise& p, F& fn) {
    try {
      using R = std::invoke_result_t<F&>;
      if constexpr (std::is_void_v<R>) {
        fn();
        p.none();
      } else if constexpr (std::is_same_v<R, AckArgs>) {
        p.resolve_args(fn().args);
      } else {
        p.resolve(Json(fn()));
      }
    } catch (const Error& e) {
      p.reject(e.code());
    } catch (const std::exception& e) {
      p.fail(std::string("worker threw: ") + e.what());
    } catch (...) {
      p.fail("worker threw an unknown exception");
    }
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      detail::guarded(host_.api(), host_.ctx(), "worker job", job);
    }
  }

  const Host& host_;
  std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// A one-shot timer on the loop (create, arm and destroy on the loop thread).
class Timer {
 public:
  Timer(const Host& host, std::function<void()> fn)
      : box_(std::make_unique<Box>(Box{host, std::move(fn), nullptr})) {
    box_->timer = host.api()->timer_create(host.ctx(), &Timer::fire, box_.get());
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() {
    if (box_->timer) box_->host.api()->timer_destroy(box_->host.ctx(), box_->timer);
  }
  void arm(std::chrono::milliseconds delay) {
    uint64_t ms = delay.count() < 0 ? 0 : static_cast<uint64_t>(delay.count());
    box_->host.api()->timer_arm(box_->host.ctx(), box_->timer, ms);
  }
  void disarm() { box_->host.api()->timer_disarm(box_->host.ctx(), box_->timer); }

 private:
  struct Box {
    const Host& host;
    std::function<void()> fn;
    dhl_timer* timer;
  };
  static void fire(void* user) {
    auto* box = static_cast<Box*>(user);
    const dhl_host* api = box->host.api();
    dhl_ctx* ctx = box->host.ctx();
    std::function<void()> fn = box->fn;  // the callback may destroy its own Timer
    detail::guarded(api, ctx, "timer", fn);
  }
  std::unique_ptr<Box> box_;
};

inline int Host::redis(const std::vector<std::string>& argv, RedisCallback fn,
                       std::chrono::milliseconds timeout) const {
  if (!has_cluster_api()) return DHL_ERR_UNAVAILABLE;
  std::vector<dhl_str> a = detail::strs(argv);
  auto* box = new detail::RedisBox{api_, ctx_, std::move(fn)};
  int rc = api_->redis_command(ctx_, a.data(), a.size(), clamp_ms(timeout), &detail::on_redis, box);
  if (rc != DHL_OK) delete box;
  return rc;
}

inline int Host::redis_script(std::string_view script, const std::vector<std::string>& keys,
                              const std::vector<std::string>& args, RedisCallback fn,
                              std::chrono::milliseconds timeout) const {
  if (!has_cluster_api()) return DHL_ERR_UNAVAILABLE;
  std::vector<dhl_str> k = detail::strs(keys), a = detail::strs(args);
  auto* box = new detail::RedisBox{api_, ctx_, std::move(fn)};
  int rc = api_->redis_script(ctx_, str(script), k.data(), k.size(), a.data(), a.size(),
                              clamp_ms(timeout), &detail::on_redis, box);
  if (rc != DHL_OK) delete box;
  return rc;
}

namespace detail {

struct CountBox {
  const dhl_host* api;
  dhl_ctx* ctx;
  std::function<void(int64_t, bool)> fn;
};

inline void on_count(void* user, int status, int64_t count) {
  std::unique_ptr<CountBox> box(static_cast<CountBox*>(user));
  guarded(box->api, box->ctx, "count callback", [&] { box->fn(count, status == DHL_OK); });
}

struct StatusBox {
  const dhl_host* api;
  dhl_ctx* ctx;
  std::function<void(int)> fn;
};

inline void on_status(void* user, int status) {
  std::unique_ptr<StatusBox> box(static_cast<StatusBox*>(user));
  guarded(box->api, box->ctx, "logged callback", [&] { box->fn(status); });
}

}  // namespace detail

inline int Host::emit_to_logged(const Target& target, std::string_view event, const Json& args,
                                std::function<void(int status)> fn) const {
  if (!DHL_HOST_HAS(api_, emit_to_logged)) {
    int rc = emit_to_args(target, event, args);
    if (rc == DHL_OK) detail::guarded(api_, ctx_, "logged callback", [&] { fn(DHL_OK); });
    return rc;
  }
  detail::TargetView t(target);
  Encoded e(args);
  auto* box = new detail::StatusBox{api_, ctx_, std::move(fn)};
  int rc = api_->emit_to_logged(ctx_, &t.c, str(event), e.get(), &detail::on_status, box);
  if (rc != DHL_OK) delete box;
  return rc;
}

inline int Host::target_count(const Target& target,
                              std::function<void(int64_t count, bool complete)> fn) const {
  detail::TargetView t(target);
  if (DHL_HOST_HAS(api_, target_count_async)) {
    auto* box = new detail::CountBox{api_, ctx_, std::move(fn)};
    int rc = api_->target_count_async(ctx_, &t.c, &detail::on_count, box);
    if (rc != DHL_OK) delete box;
    return rc;
  }
  if (!DHL_HOST_HAS(api_, target_count)) return DHL_ERR_NOTFOUND;
  int64_t n = api_->target_count(ctx_, &t.c);
  if (n < 0) return static_cast<int>(n);
  detail::guarded(api_, ctx_, "count callback", [&] { fn(n, !clustered()); });
  return DHL_OK;
}

// ---- HTTP routes (ABI 1.1; answers given later: ABI 1.4) ----

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// A request taken over with HttpExchange::defer(): answer it once, on the
// loop. Destroying an unanswered HttpReply answers 500 (and logs it).
class HttpReply {
 public:
  HttpReply() = default;
  HttpReply(const Host& host, dhl_http_reply* reply)
      : ctx_(host.ctx()), api_(host.api()), reply_(reply) {}
  HttpReply(HttpReply&& o) noexcept
      : ctx_(o.ctx_), api_(o.api_), reply_(std::exchange(o.reply_, nullptr)) {}
  HttpReply& operator=(HttpReply&& o) noexcept {
    if (this != &o) {
      abandon();
      ctx_ = o.ctx_;
      api_ = o.api_;
      reply_ = std::exchange(o.reply_, nullptr);
    }
    return *this;
  }
  ~HttpReply() { abandon(); }

  explicit operator bool() const { return reply_ != nullptr; }
  // DHL_OK: sent; DHL_ERR_GONE: the client left; DHL_ERR_TIMEOUT: the host
  // answered 504 already (pluginHost.callTimeout); DHL_ERR_DONE: answered.
  int send(const HttpResponse& r) {
    if (!reply_) return DHL_ERR_DONE;
    dhl_http_response c{r.status, str(r.content_type), str(r.body)};
    return api_->http_reply(ctx_, std::exchange(reply_, nullptr), &c);
  }

 private:
  void abandon() {
    if (!reply_) return;
    api_->log(ctx_, DHL_LOG_ERROR, str("a deferred HTTP request was dropped without an answer"));
    send({500, "application/json", R"({"error":"internalServerError"})"});
  }
  dhl_ctx* ctx_ = nullptr;
  const dhl_host* api_ = nullptr;
  dhl_http_reply* reply_ = nullptr;
};

// One request to a route, during the handler.
class HttpExchange {
 public:
  HttpExchange(const Host& host, const dhl_http_request* req) : host_(host), req_(req) {}
  std::string_view method() const { return view(req_->method); }
  std::string_view path() const { return view(req_->path); }
  std::string_view body() const { return view(req_->body); }
  std::string_view remote_address() const { return view(req_->remote_address); }
  // A request header by lower-case name; empty when absent.
  std::string_view header(std::string_view lower_name) const {
    return view(host_.api()->http_header(host_.ctx(), req_, str(lower_name)));
  }
  // The answer sent when the handler returns (unless deferred).
  HttpResponse response;
  // Answers later instead: a falsy HttpReply when the host cannot (before
  // ABI 1.4) or the request was deferred already; answer `response` then.
  HttpReply defer() {
    if (!DHL_HOST_HAS(host_.api(), http_reply)) return {};
    dhl_http_reply* r = host_.api()->http_defer(host_.ctx(), req_);
    return r ? HttpReply(host_, r) : HttpReply();
  }
  const dhl_http_request* c() const { return req_; }

 private:
  const Host& host_;
  const dhl_http_request* req_;
};

// [loop, construct during init] Serves `method` ("GET" or "POST") `path` with
// `fn` while the plugin is loaded (routes are not removed: keep it as a
// member). Throws std::runtime_error when the host has no HTTP routes or
// refuses the path (taken, or init is over). An exception from `fn` answers
// 500.
class HttpRoute {
 public:
  using Fn = std::function<void(HttpExchange&)>;
  HttpRoute(const Host& host, std::string_view method, std::string_view path, std::size_t max_body,
            Fn fn)
      : box_(std::make_unique<Box>(Box{host, std::move(fn), {}})) {
    if (!DHL_HOST_HAS(host.api(), http_header))
      throw std::runtime_error("this server has no HTTP routes for plugins (ABI 1.1)");
    int rc = host.api()->http_route(host.ctx(), str(method), str(path), max_body, &HttpRoute::on,
                                    box_.get());
    if (rc != DHL_OK)
      throw std::runtime_error("cannot serve " + std::string(method) + " " + std::string(path) +
                               (rc == DHL_ERR_REFUSED ? ": the path is taken" : ""));
  }
  HttpRoute(const HttpRoute&) = delete;
  HttpRoute& operator=(const HttpRoute&) = delete;

 private:
  struct Box {
    const Host& host;
    Fn fn;
    HttpResponse last;  // the answer being handed over
  };
  static void on(void* user, const dhl_http_request* req, dhl_http_response* res) {
    auto* box = static_cast<Box*>(user);
    HttpExchange ex(box->host, req);
    bool ok = false;
    detail::guarded(box->host.api(), box->host.ctx(), "HTTP route", [&] {
      box->fn(ex);
      ok = true;
    });
    if (!ok) ex.response = {500, "application/json", R"({"error":"internalServerError"})"};
    // The host copies these after this returns: they live in the box.
    HttpResponse& last = box->last;
    last = std::move(ex.response);
    res->status = last.status;
    res->content_type = str(last.content_type);
    res->body = str(last.body);
  }
  std::unique_ptr<Box> box_;
};

// [loop] While alive, `fn(joined, node_id)` runs when another node joins or
// leaves (its heartbeat expired: it died). Keep it as a member.
class NodeEvents {
 public:
  using Fn = std::function<void(bool joined, std::string_view node_id)>;
  NodeEvents(const Host& host, Fn fn) : host_(host), box_(std::make_unique<Fn>(std::move(fn))) {
    if (host_.has_cluster_api()) host_.api()->node_events(host_.ctx(), &NodeEvents::on, this);
  }
  NodeEvents(const NodeEvents&) = delete;
  NodeEvents& operator=(const NodeEvents&) = delete;
  ~NodeEvents() {
    if (host_.has_cluster_api()) host_.api()->node_events(host_.ctx(), nullptr, nullptr);
  }

 private:
  static void on(void* user, int event, dhl_str id) {
    auto* self = static_cast<NodeEvents*>(user);
    Fn fn = *self->box_;
    detail::guarded(self->host_.api(), self->host_.ctx(), "node event",
                    [&] { fn(event == DHL_NODE_JOINED, view(id)); });
  }
  const Host& host_;
  std::unique_ptr<Fn> box_;
};

// [loop] While alive, messages node_emit() sends from the other nodes reach
// `fn(event, args)`; what it returns answers the sender when it waits for
// answers (nullopt: no answer from this node). Keep it as a member.
class NodeMessages {
 public:
  using Fn = std::function<std::optional<Json>(std::string_view event, const Json& args)>;
  NodeMessages(const Host& host, Fn fn) : host_(host), fn_(std::move(fn)) {
    if (host_.has_cluster_api()) host_.api()->node_messages(host_.ctx(), &NodeMessages::on, this);
  }
  NodeMessages(const NodeMessages&) = delete;
  NodeMessages& operator=(const NodeMessages&) = delete;
  ~NodeMessages() {
    if (host_.has_cluster_api()) host_.api()->node_messages(host_.ctx(), nullptr, nullptr);
  }

 private:
  static void on(void* user, dhl_str event, const dhl_payload* args, dhl_node_answer* answer) {
    auto* self = static_cast<NodeMessages*>(user);
    const Host& host = self->host_;
    detail::guarded(host.api(), host.ctx(), "node message", [&] {
      std::optional<Json> out = self->fn_(view(event), decode(args));
      if (!out || !answer) return;
      std::string text = out->dump();
      host.api()->node_answer(host.ctx(), answer, str(text));
    });
  }
  const Host& host_;
  Fn fn_;
};

// ---- Trampolines: the C entry points behind DHL_PLUGIN ------------------

namespace detail {

template <typename T>
struct Instance {
  Instance(dhl_ctx* ctx, const dhl_host* api) : host(ctx, api) {}
  Host host;
  std::optional<T> object;
};

template <typename M>
struct MemberOf;
template <typename C, typename R, typename... A>
struct MemberOf<R (C::*)(A...)> {
  using Class = C;
};
template <typename C, typename R, typename... A>
struct MemberOf<R (C::*)(A...) noexcept> {
  using Class = C;
};
template <typename C, typename R, typename... A>
struct MemberOf<R (C::*)(A...) const> {
  using Class = C;
};
template <typename C, typename R, typename... A>
struct MemberOf<R (C::*)(A...) const noexcept> {
  using Class = C;
};

inline void answer_error(const Host& host, dhl_call* call, std::string_view code) {
  host.api()->reply_error(host.ctx(), call, str(code));
}

// A method returned a Future: answer now if it is settled, else defer.
inline void attach(const Host& host, dhl_call* call, const Future& f) {
  auto& s = *f.state();
  std::unique_lock lock(s.mutex);
  if (s.attached || s.delivered) return;
  s.attached = true;
  s.host = &host;
  if (!s.outcome) {
    if (dhl_call* deferred = host.api()->call_defer(host.ctx(), call))
      s.reply = Reply(host, deferred);
    return;
  }
  s.delivered = true;
  Outcome o = std::move(*s.outcome);
  lock.unlock();
  Reply now(host, call);  // the method's own call, answered before returning
  if (o.kind == Outcome::Kind::Internal) host.error(o.text);
  deliver(now, o);
}

template <typename R>
void answer(const Host& host, dhl_call* call, R&& result) {
  using D = std::decay_t<R>;
  if constexpr (std::is_same_v<D, Future>) {
    attach(host, call, result);
  } else if constexpr (std::is_same_v<D, AckArgs>) {
    Encoded e(result.args);
    host.api()->reply(host.ctx(), call, e.get());
  } else {
    Encoded e(Json::array({Json(std::forward<R>(result))}));
    host.api()->reply(host.ctx(), call, e.get());
  }
}

template <auto M, typename C>
void invoke(C& object, const Host& host, dhl_socket* sock, dhl_call* call, const dhl_payload* p) {
  Socket socket(host, sock);
  auto run = [&](auto&&... extra) {
    using R = decltype((object.*M)(socket, extra...));
    if constexpr (std::is_void_v<R>) {
      (object.*M)(socket, extra...);
    } else {
      answer(host, call, (object.*M)(socket, extra...));
    }
  };
  if constexpr (std::is_invocable_v<decltype(M), C&, Socket&, const Json&>) {
    run(decode(p));
  } else if constexpr (std::is_invocable_v<decltype(M), C&, Socket&, Call&>) {
    Call c(host, call, p);
    run(c);
  } else {
    static_assert(std::is_invocable_v<decltype(M), C&, Socket&>,
                  "a method takes (Socket&, const Json&), (Socket&, Call&) or (Socket&)");
    run();
  }
}

template <auto M>
void method_trampoline(void* state, dhl_socket* sock, dhl_call* call, const dhl_payload* p) {
  using C = typename MemberOf<decltype(M)>::Class;
  auto* inst = static_cast<Instance<C>*>(state);
  const Host& host = inst->host;
  try {
    invoke<M>(*inst->object, host, sock, call, p);
  } catch (const Error& e) {
    answer_error(host, call, e.code());
  } catch (const std::exception& e) {
    host.error(std::string("method threw: ") + e.what());
    answer_error(host, call, "internalServerError");
  } catch (...) {
    host.error("method threw an unknown exception");
    answer_error(host, call, "internalServerError");
  }
}

template <typename T>
concept HasSocketState = requires {
  typename T::SocketState;
};
template <typename T>
concept HasOnConnect = requires(T& t, Socket& s) {
  t.onConnect(s);
};
template <typename T>
concept HasOnDisconnectReason = requires(T& t, Socket& s, std::string_view r) {
  t.onDisconnect(s, r);
};
template <typename T>
concept HasOnDisconnect = HasOnDisconnectReason<T> || requires(T& t, Socket& s) {
  t.onDisconnect(s);
};

// std::string saveSession(Socket&): what to keep with a recoverable session;
// void restoreSession(Socket&, std::string_view): it, for the recovered
// socket, before onConnect (SocketState already exists).
template <typename T>
concept HasSaveSession = requires(T& t, Socket& s) {
  { t.saveSession(s) } -> std::convertible_to<std::string>;
};
template <typename T>
concept HasRestoreSession = requires(T& t, Socket& s, std::string_view saved) {
  t.restoreSession(s, saved);
};

template <typename T>
concept HasOnMessage = requires(T& t, std::string_view s, const Json& j) {
  t.onMessage(s, s, j);
};

template <typename T>
int on_message(void* state, dhl_str from, dhl_str topic, dhl_str json) {
  auto* inst = static_cast<Instance<T>*>(state);
  const Host& host = inst->host;
  try {
    std::optional<Json> data = Json::parse(view(json));
    if (!data) return DHL_ERR_INVALID;
    using R = decltype(inst->object->onMessage(view(from), view(topic), *data));
    if constexpr (std::is_void_v<R>) {
      inst->object->onMessage(view(from), view(topic), *data);
      return DHL_OK;
    } else {
      return static_cast<int>(inst->object->onMessage(view(from), view(topic), *data));
    }
  } catch (const std::exception& e) {
    host.error(std::string("onMessage threw: ") + e.what());
  } catch (...) {
    host.error("onMessage threw an unknown exception");
  }
  return DHL_ERR_INVALID;
}

template <typename T>
int init(dhl_ctx* ctx, const dhl_host* api, void** state) {
  auto inst = std::make_unique<Instance<T>>(ctx, api);
  try {
    if constexpr (std::is_constructible_v<T, Host&>)
      inst->object.emplace(inst->host);
    else
      inst->object.emplace();
  } catch (const std::exception& e) {
    inst->host.error(std::string("init failed: ") + e.what());
    return 1;
  } catch (...) {
    inst->host.error("init failed: unknown exception");
    return 1;
  }
  *state = inst.release();
  return 0;
}

template <typename T>
void shutdown(void* state) {
  auto* inst = static_cast<Instance<T>*>(state);
  guarded(inst->host.api(), inst->host.ctx(), "shutdown", [&] { inst->object.reset(); });
  delete inst;
}

template <typename T>
void on_connect(void* state, dhl_socket* sock) {
  auto* inst = static_cast<Instance<T>*>(state);
  guarded(inst->host.api(), inst->host.ctx(), "onConnect", [&] {
    Socket socket(inst->host, sock);
    if constexpr (HasSocketState<T>)
      if (socket.data() == nullptr) socket.set_data(new typename T::SocketState());
    if constexpr (HasOnConnect<T>) inst->object->onConnect(socket);
  });
}

template <typename T>
void save_session(void* state, dhl_socket* sock, dhl_str* saved) {
  auto* inst = static_cast<Instance<T>*>(state);
  thread_local std::string bytes;  // valid until the next callback
  bytes.clear();
  guarded(inst->host.api(), inst->host.ctx(), "saveSession", [&] {
    Socket socket(inst->host, sock);
    bytes = inst->object->saveSession(socket);
  });
  if (!bytes.empty()) *saved = dhl_str{bytes.data(), bytes.size()};
}

template <typename T>
void restore_session(void* state, dhl_socket* sock, dhl_str saved) {
  auto* inst = static_cast<Instance<T>*>(state);
  guarded(inst->host.api(), inst->host.ctx(), "restoreSession", [&] {
    Socket socket(inst->host, sock);
    if constexpr (HasSocketState<T>)
      if (socket.data() == nullptr) socket.set_data(new typename T::SocketState());
    inst->object->restoreSession(socket, view(saved));
  });
}

template <typename T>
void on_disconnect(void* state, dhl_socket* sock, dhl_str reason) {
  auto* inst = static_cast<Instance<T>*>(state);
  Socket socket(inst->host, sock);
  guarded(inst->host.api(), inst->host.ctx(), "onDisconnect", [&] {
    if constexpr (HasOnDisconnectReason<T>)
      inst->object->onDisconnect(socket, view(reason));
    else if constexpr (HasOnDisconnect<T>)
      inst->object->onDisconnect(socket);
  });
  if constexpr (HasSocketState<T>) {
    delete static_cast<typename T::SocketState*>(socket.data());
    socket.set_data(nullptr);
  }
}

template <typename T, std::size_t N>
const dhl_plugin_desc* describe(const char* name, const char* version,
                                const dhl_method (&methods)[N]) {
  dhl_connect_fn connect = nullptr;
  dhl_disconnect_fn disconnect = nullptr;
  if constexpr (HasOnConnect<T> || HasSocketState<T>) connect = &on_connect<T>;
  if constexpr (HasOnDisconnect<T> || HasSocketState<T>) disconnect = &on_disconnect<T>;
  dhl_session_save_fn save = nullptr;
  dhl_session_restore_fn restore = nullptr;
  if constexpr (HasSaveSession<T>) save = &save_session<T>;
  if constexpr (HasRestoreSession<T>) restore = &restore_session<T>;
  dhl_message_fn message = nullptr;
  if constexpr (HasOnMessage<T>) message = &on_message<T>;
  static const dhl_plugin_desc desc = {sizeof(dhl_plugin_desc),
                                       DHL_ABI_MAJOR,
                                       DHL_ABI_MINOR,
                                       name,
                                       version,
                                       &init<T>,
                                       &shutdown<T>,
                                       connect,
                                       disconnect,
                                       methods,
                                       N - 1,  // minus the terminator
                                       save,
                                       restore,
                                       message};
  return &desc;
}

}  // namespace detail

// A method table entry: dhl::method<&Class::fn>("$name").
template <auto M>
constexpr dhl_method method(const char* name) {
  return dhl_method{name, &detail::method_trampoline<M>};
}

}  // namespace dhl

// Defines the plugin's entry function: DHL_PLUGIN(Class, "name", "version",
// dhl::method<&Class::a>("$a"), ...). Class is constructed from dhl::Host&
// (or default-constructed) at load; a constructor that throws fails the load.
#define DHL_PLUGIN(Class, name, version, ...)                                                \
  DHL_PLUGIN_ENTRY {                                                                         \
    static const dhl_method dhl_methods_[] = {__VA_ARGS__ __VA_OPT__(, ){nullptr, nullptr}}; \
    return ::dhl::detail::describe<Class>(name, version, dhl_methods_);                      \
  }
