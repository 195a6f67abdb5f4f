// dhl::testing::FakeHost: runs a plugin in-process, without a network or a
// server, for unit tests (any test framework). It implements the whole host
// API table and dispatches like the server: event X goes to "$X", no method
// answers {"error":"unhandled"}, a method that returns nothing answers [null]
// when an ack was asked.
//
//   #include <daheim/testing/fake_host.hpp>
//   DHL_PLUGIN(...) in the plugin's source, linked into the test, or:
//   dhl::testing::FakeHost host(dhl_plugin_v1(), R"({"greeting":"hi"})");
//   auto& alice = host.connect();                       // runs onConnect
//   auto r = host.call_and_wait(alice, "greet", dhl::Json::array({"Bob"}));
//   assert(r->value()["hello"].as_string() == "Bob");
//   assert(alice.received.at(0).event == "hello");
//
// The thread that constructs the FakeHost plays the loop thread. Replies and
// posts from other threads wait until run_pending() / run_until() runs them.
// Timers run on a fake clock: advance(ms). Socket handles are checked as
// the server checks them: a dhl_socket* kept past its socket's disconnect
// (the end of on_disconnect) is refused with DHL_ERR_GONE, logged, and
// counted in stale_handle_uses(), so a test catches what on the server would
// have touched a freed socket. Limitations: broadcast acks
// complete at once with no answers; rooms are plain sets. A FakeCluster
// (below) simulates the ABI 1.3 cluster services: node messages, node
// events and Redis through a fake the test provides, and ABI 1.4's
// cluster-wide counts. Plugin HTTP routes are served by http(), deferred
// answers included.
#pragma once

#include <daheim/plugin.h>
#include <daheim/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace dhl::testing {

struct Emitted {
  std::string event;
  Json args;  // the arguments, as an array
};

struct CallResult {
  bool answered = false;
  bool nothing = false;  // "nothing returned"
  Json args;             // the ack's arguments (an array); [null] for nothing
  const Json& value() const { return args[0]; }
  std::string_view error() const { return args[0]["error"].as_string(); }
};
using CallPtr = std::shared_ptr<CallResult>;

struct ServerAck {  // an emit_with_ack waiting for the test to answer
  std::string event;
  Json args;
  dhl_ack_fn fn;
  void* user;
};

class FakeSocket {
 public:
  std::string id;
  std::string nsp = "/";
  std::string address = "127.0.0.1";
  std::string url = "/socket.io/?EIO=4&transport=websocket";
  std::string transport = "websocket";
  std::string auth = "{}";
  std::optional<std::string> claims;  // JSON object text when authenticated
  std::string user_id;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::vector<std::pair<std::string, std::string>> query;

  // Filled by the host:
  bool connected = false;
  int session_changes = 0;  // session_changed calls (ABI 1.4)
  std::set<std::string> rooms;
  std::vector<Emitted> received;  // emits and broadcasts that reached it
  std::vector<ServerAck> acks;    // emits with ack not answered yet
  void* data = nullptr;
  std::string disconnect_reason;
};

class FakeHost;

// A Redis reply the test's fake Redis answers with.
struct FakeRedisReply {
  int type = DHL_REDIS_NIL;
  int64_t integer = 0;
  std::string str;
  std::vector<FakeRedisReply> elements;
  static FakeRedisReply string(std::string s) { return {DHL_REDIS_STRING, 0, std::move(s), {}}; }
  static FakeRedisReply status(std::string s) { return {DHL_REDIS_STATUS, 0, std::move(s), {}}; }
  static FakeRedisReply error(std::string s) { return {DHL_REDIS_ERROR, 0, std::move(s), {}}; }
  static FakeRedisReply integer_(int64_t n) { return {DHL_REDIS_INTEGER, n, {}, {}}; }
  static FakeRedisReply array(std::vector<FakeRedisReply> e) {
    return {DHL_REDIS_ARRAY, 0, {}, std::move(e)};
  }
};

// Several FakeHosts as the nodes of one cluster, without Redis: node
// messages go to the same plugin on the other nodes (delivered by the
// receiver's run_pending()), join() / leave() raise the node events, and
// every Redis command or script goes to `redis` (the test's fake Redis):
// argv as sent, scripts as {"EVAL", script, numkeys, keys..., args...}.
// While `redis_up` is false calls fail with DHL_ERR_UNAVAILABLE.
struct FakeCluster {
  std::function<FakeRedisReply(const std::vector<std::string>& argv)> redis;
  bool redis_up = true;
  std::vector<FakeHost*> nodes;
  std::vector<std::vector<std::string>> commands;  // every call, in order
  // Nodes that do not answer cluster-wide counts (target_count_async then
  // reports DHL_ERR_TIMEOUT with the others' sockets).
  std::set<const FakeHost*> silent;
  void leave(FakeHost& node);  // the others see it leave (as after a crash)
  void join(FakeHost& node);
};

// An HTTP request to a plugin route and its answer (answered later when the
// plugin deferred it: run_until([&] { return r->answered; })).
struct HttpResult {
  bool answered = false;
  int status = 0;
  std::string content_type;
  std::string body;
  Json json() const { return Json::parse(body).value_or(Json()); }
};
using HttpPtr = std::shared_ptr<HttpResult>;

struct FakeNode {
  std::string id;                  // empty: made up
  FakeCluster* cluster = nullptr;  // null: a single node
};

class FakeHost {
 public:
  explicit FakeHost(const dhl_plugin_desc* desc, std::string config = "null", FakeNode node = {})
      : desc_(desc),
        config_(std::move(config)),
        loop_(std::this_thread::get_id()),
        node_id_(node.id.empty() ? "fake-node-" + std::to_string(reinterpret_cast<uintptr_t>(this))
                                 : node.id),
        cluster_(node.cluster) {
    if (cluster_) cluster_->join(*this);
    api_ = make_api();
    init_result_ = desc_->init ? desc_->init(ctx(), &api_, &state_) : 0;
    initialized_ = init_result_ == 0;
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;
  ~FakeHost() {
    shutdown();
    if (cluster_) cluster_->leave(*this);
  }
  const std::string& node_id() const { return node_id_; }

  int init_result() const { return init_result_; }
  bool ok() const { return initialized_; }
  const dhl_host& api() const { return api_; }
  std::vector<std::string> logs;  // "<level> message"

  // Connects a socket (an id is made up when empty) and runs on_connect.
  FakeSocket& connect(FakeSocket s = {}) {
    if (s.id.empty()) s.id = "fake-socket-" + std::to_string(++next_socket_);
    auto owned = std::make_unique<FakeSocket>(std::move(s));
    FakeSocket& socket = *owned;
    index_[&socket] = sockets_.size();
    sockets_.push_back(std::move(owned));
    socket.connected = true;
    socket.rooms.insert(socket.id);
    if (!socket.user_id.empty()) socket.rooms.insert(DHL_USER_ROOM_PREFIX + socket.user_id);
    if (desc_->on_connect) desc_->on_connect(state_, handle(socket));
    return socket;
  }

  void disconnect(FakeSocket& socket, std::string reason = "client namespace disconnect") {
    if (!socket.connected) return;
    socket.connected = false;
    socket.disconnect_reason = reason;
    if (desc_->on_disconnect)
      desc_->on_disconnect(state_, handle(socket), {reason.data(), reason.size()});
    released_.insert(&socket);  // as the server frees it: its handle is stale now
    socket.rooms.clear();
    std::vector<ServerAck> acks = std::move(socket.acks);
    socket.acks.clear();
    for (ServerAck& a : acks) a.fn(a.user, DHL_ERR_TIMEOUT, nullptr);
  }

  // Dispatches client event `event` with `args` (an array) as the server
  // would. The result is answered at once, or later (see run_until).
  CallPtr call(FakeSocket& socket, std::string_view event, const Json& args = Json::array(),
               bool want_ack = true) {
    auto result = std::make_shared<CallResult>();
    const dhl_method* m = find_method(event);
    if (m == nullptr) {
      if (want_ack) finish(*result, Json::array({Json::object({{"error", "unhandled"}})}), false);
      return result;
    }
    std::vector<std::string> attachments;
    std::string text = args.dump(&attachments);
    std::vector<dhl_str> views;
    for (const std::string& a : attachments) views.push_back({a.data(), a.size()});
    dhl_payload p{text.data(), text.size(), views.data(), views.size()};
    SyncCall call{this, &socket, result, want_ack, m->name};
    SyncCall* outer = std::exchange(current_, &call);
    m->fn(state_, handle(socket), reinterpret_cast<dhl_call*>(&call), &p);
    current_ = outer;
    if (call.state == State::Open) answer(call.socket, result, want_ack, nullptr, m->name);
    return result;
  }

  CallPtr call_and_wait(FakeSocket& socket, std::string_view event,
                        const Json& args = Json::array(),
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    CallPtr r = call(socket, event, args, true);
    run_until([&] { return r->answered; }, timeout);
    return r;
  }

  // Sends an HTTP request to the plugin's route `method` `path` (as the
  // server would: 404 without such a route, 413 above its max_body).
  HttpPtr http(std::string_view method, std::string_view path, std::string body = {},
               std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto result = std::make_shared<HttpResult>();
    auto it = routes_.find(std::string(method) + " " + std::string(path));
    if (it == routes_.end()) return finish_http(*result, 404, "text/plain", "Not Found"), result;
    const Route& route = it->second;
    if (body.size() > route.max_body)
      return finish_http(*result, 413, "application/json", R"({"error":"payload_too_large"})"),
             result;
    HttpRequestState st{result, std::move(headers), false};
    dhl_http_request req{ds(method), ds(path), ds(body), ds("127.0.0.1"), &st};
    dhl_http_response res{0, {nullptr, 0}, {nullptr, 0}};
    route.fn(route.user, &req, &res);
    if (!st.deferred)
      finish_http(*result, res.status ? res.status : 200,
                  res.content_type.len ? std::string(sv(res.content_type)) : "application/json",
                  std::string(sv(res.body)));
    return result;
  }
  std::size_t pending_http() const { return open_http_.size(); }

  // The sockets of this node `t` selects.
  int64_t count(const dhl_target* t) const {
    int64_t n = 0;
    for (const auto& s : sockets_) n += selects(*s, t) ? 1 : 0;
    return n;
  }

  // Runs posted tasks and replies that came from other threads.
  std::size_t run_pending() {
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(tasks_);
    }
    for (auto& t : batch) t();
    return batch.size();
  }

  // Runs pending work until `done()` or the timeout; returns done().
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (run_pending() == 0) {
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    return true;
  }

  // Answers the i-th outstanding emit_with_ack of `socket`.
  void answer_ack(FakeSocket& socket, std::size_t i, const Json& answer_args) {
    ServerAck a = std::move(socket.acks.at(i));
    socket.acks.erase(socket.acks.begin() + static_cast<std::ptrdiff_t>(i));
    std::string text = answer_args.dump();
    dhl_payload p{text.data(), text.size(), nullptr, 0};
    a.fn(a.user, DHL_OK, &p);
  }

  // Moves the fake clock on, firing the timers that fall due.
  void advance(std::chrono::milliseconds by) {
    uint64_t until = now_ + static_cast<uint64_t>(by.count());
    for (;;) {
      Timer* next = nullptr;
      for (auto& [t, owned] : timers_)
        if (owned->armed && owned->due <= until && (!next || owned->due < next->due)) next = t;
      if (!next) break;
      now_ = next->due;
      next->armed = false;
      next->fn(next->user);
    }
    now_ = until;
  }

  // Another plugin's message (send_message) to the plugin under test: what
  // its onMessage answered, or DHL_ERR_NOTFOUND when it takes none.
  int message(std::string_view from, std::string_view topic, const Json& data) {
    bool has =
        desc_->struct_size >= offsetof(dhl_plugin_desc, on_message) + sizeof(desc_->on_message) &&
        desc_->on_message != nullptr;
    if (!has) return DHL_ERR_NOTFOUND;
    std::string text = data.dump();
    return desc_->on_message(state_, {from.data(), from.size()}, {topic.data(), topic.size()},
                             {text.data(), text.size()});
  }
  // What the plugin sent to other plugins (send_message), and what it is
  // answered (DHL_ERR_NOTFOUND unless set: no other plugin is loaded).
  struct SentMessage {
    std::string plugin;
    std::string topic;
    Json data;
  };
  std::vector<SentMessage> sent_messages;
  int message_answer = DHL_ERR_NOTFOUND;

  // How often the plugin passed a socket handle the host refused: kept past
  // its socket's disconnect (DHL_ERR_GONE) or never given (DHL_ERR_INVALID).
  std::size_t stale_handle_uses() const { return stale_handle_uses_; }

  std::size_t pending_deferred() const {
    std::lock_guard lock(mutex_);
    return deferred_.size();
  }

  // Disconnects the sockets still connected ("server shutting down"), runs
  // pending work, then the plugin's shutdown.
  void shutdown() {
    if (!initialized_) return;
    for (auto& s : sockets_) disconnect(*s, "server shutting down");
    initialized_ = false;
    run_pending();
    stopping_ = true;
    if (desc_->shutdown) desc_->shutdown(state_);
    timers_.clear();
  }

  // Node events, as the cluster raises them.
  void node_event(bool joined, const std::string& id) {
    if (node_fn_ && initialized_)
      node_fn_(node_user_, joined ? DHL_NODE_JOINED : DHL_NODE_LEFT, ds(id));
  }
  // Queues a task as if another thread posted it (run by run_pending()).
  void queue(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  // A node message from another node: the answer, if the handler gave one.
  std::optional<std::string> deliver_node_message(const std::string& event, const std::string& args,
                                                  bool want_answer) {
    if (!message_fn_ || !initialized_) return std::nullopt;
    dhl_payload p{args.data(), args.size(), nullptr, 0};
    dhl_node_answer* a = want_answer ? reinterpret_cast<dhl_node_answer*>(&answer_) : nullptr;
    answer_.reset();
    answering_ = want_answer;
    message_fn_(message_user_, ds(event), &p, a);
    answering_ = false;
    return std::exchange(answer_, std::nullopt);
  }

 private:
  enum class State { Open, Answered, Deferred };
  struct SyncCall {
    FakeHost* host;
    FakeSocket* socket;
    CallPtr result;
    bool want_ack;
    const char* method;
    State state = State::Open;
  };
  struct Deferred {
    FakeSocket* socket;
    CallPtr result;
    bool want_ack;
    const char* method;
  };
  struct Timer {
    dhl_timer_fn fn;
    void* user;
    bool armed = false;
    uint64_t due = 0;
  };

  static FakeHost& self(dhl_ctx* c) { return *reinterpret_cast<FakeHost*>(c); }
  dhl_ctx* ctx() { return reinterpret_cast<dhl_ctx*>(this); }
  // A handle is an index with a tag, never the FakeSocket's address (as on
  // the server, where it is generation-checked).
  static constexpr uintptr_t kHandleTag = uintptr_t{1} << (sizeof(uintptr_t) * 4);
  dhl_socket* handle(FakeSocket& s) const {
    auto it = index_.find(&s);
    if (it == index_.end()) return nullptr;
    return reinterpret_cast<dhl_socket*>(kHandleTag | (it->second + 1));
  }
  // The socket behind a plugin's handle, or null with `error` (logged).
  FakeSocket* live(const dhl_socket* h, const char* fn, int& error) {
    uintptr_t v = reinterpret_cast<uintptr_t>(h);
    std::size_t i = (v & (kHandleTag - 1)) - 1;
    if ((v & ~(kHandleTag - 1)) != kHandleTag || i >= sockets_.size()) {
      error = DHL_ERR_INVALID;
    } else if (released_.count(sockets_[i].get())) {
      error = DHL_ERR_GONE;
    } else {
      return sockets_[i].get();
    }
    ++stale_handle_uses_;
    log(DHL_LOG_WARNING,
        std::string(fn) + (error == DHL_ERR_GONE ? " with the handle of a socket that has left"
                                                 : " with a socket handle the host never gave"));
    return nullptr;
  }
  static FakeSocket* live(dhl_ctx* c, const dhl_socket* h, const char* fn) {
    int error = 0;
    return self(c).live(h, fn, error);
  }
  static std::string_view sv(dhl_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : ""; }
  static dhl_str ds(std::string_view s) { return {s.data(), s.size()}; }
  bool on_loop() const { return std::this_thread::get_id() == loop_; }

  static Json decode(const dhl_payload* p) {
    if (!p || p->json_len == 0) return Json::array();
    std::vector<std::string_view> att;
    for (std::size_t i = 0; i < p->attachment_count; ++i)
      att.emplace_back(p->attachments[i].ptr, p->attachments[i].len);
    return Json::parse({p->json, p->json_len}, att).value_or(Json());
  }
  static bool valid(const dhl_payload* p) { return !p || p->json_len == 0 || decode(p).is_array(); }

  const dhl_method* find_method(std::string_view event) const {
    for (std::size_t i = 0; i < desc_->method_count; ++i)
      if (std::string_view(desc_->methods[i].name + 1) == event) return &desc_->methods[i];
    return nullptr;
  }

  void log(int level, std::string_view msg) {
    std::lock_guard lock(mutex_);
    logs.push_back("<" + std::to_string(level) + "> " + std::string(msg));
  }

  static void finish(CallResult& r, Json args, bool nothing) {
    r.args = std::move(args);
    r.nothing = nothing;
    r.answered = true;
  }

  void answer(FakeSocket* socket, const CallPtr& r, bool want_ack, const dhl_payload* p,
              const char* method) {
    if (!socket->connected) return;
    if (p == nullptr) {
      if (!want_ack) return;
      log(DHL_LOG_WARNING, std::string(method) + " returned nothing but the client expects an ack");
      finish(*r, Json::array({Json()}), true);
      return;
    }
    if (!want_ack) {
      log(DHL_LOG_WARNING, std::string(method) + " returned a result but no ack was asked");
      return;
    }
    finish(*r, decode(p), false);
  }

  int reply(dhl_call* call, const dhl_payload* p) {
    if (!valid(p)) return DHL_ERR_INVALID;
    if (reinterpret_cast<uintptr_t>(call) & 1u) return reply_later(call, p);
    auto* c = reinterpret_cast<SyncCall*>(call);
    if (!on_loop()) return DHL_ERR_THREAD;
    if (c != current_ || c->state != State::Open) return DHL_ERR_DONE;
    c->state = State::Answered;
    answer(c->socket, c->result, c->want_ack, p, c->method);
    return DHL_OK;
  }

  int reply_later(dhl_call* call, const dhl_payload* p) {
    std::optional<Deferred> d;
    {
      std::lock_guard lock(mutex_);
      auto it = deferred_.find(reinterpret_cast<uintptr_t>(call));
      if (it == deferred_.end()) return DHL_ERR_DONE;
      d = it->second;
      deferred_.erase(it);
    }
    if (on_loop()) {
      answer(d->socket, d->result, d->want_ack, p, d->method);
      return DHL_OK;
    }
    bool nothing = p == nullptr;
    Json args = decode(p);
    std::lock_guard lock(mutex_);
    if (stopping_) return DHL_ERR_GONE;
    tasks_.push_back([this, d = *d, nothing, args] {
      std::string text = args.dump();
      dhl_payload copy{text.data(), text.size(), nullptr, 0};
      answer(d.socket, d.result, d.want_ack, nothing ? nullptr : &copy, d.method);
    });
    return DHL_OK;
  }

  dhl_call* defer(dhl_call* call) {
    auto* c = reinterpret_cast<SyncCall*>(call);
    if ((reinterpret_cast<uintptr_t>(call) & 1u) || c != current_ || c->state != State::Open)
      return nullptr;
    c->state = State::Deferred;
    std::lock_guard lock(mutex_);
    uintptr_t id = (next_call_++ << 1) | 1u;
    deferred_[id] = Deferred{c->socket, c->result, c->want_ack, c->method};
    return reinterpret_cast<dhl_call*>(id);
  }

  static bool selects(const FakeSocket& s, const dhl_target* t) {
    std::string nsp = t->nsp.len ? std::string(sv(t->nsp)) : "/";
    if (!s.connected || s.nsp != nsp) return false;
    bool in = t->room_count == 0;
    for (std::size_t i = 0; i < t->room_count; ++i)
      in = in || s.rooms.count(std::string(sv(t->rooms[i])));
    for (std::size_t i = 0; i < t->except_count; ++i)
      if (s.rooms.count(std::string(sv(t->except[i])))) in = false;
    return in;
  }

  int emit_to(const dhl_target* t, dhl_str event, const dhl_payload* p) {
    if (!t || !valid(p)) return DHL_ERR_INVALID;
    for (auto& s : sockets_)
      if (selects(*s, t)) s->received.push_back({std::string(sv(event)), decode(p)});
    return DHL_OK;
  }

  // Every node's count, answered on this node's run_pending() (at once on a
  // single node).
  int count_async(const dhl_target* t, dhl_count_fn fn, void* user) {
    int64_t n = 0;
    bool complete = true;
    for (FakeHost* node : cluster_ ? cluster_->nodes : std::vector<FakeHost*>{this}) {
      if (node != this && cluster_->silent.count(node)) {
        complete = false;
        continue;
      }
      n += node->count(t);
    }
    if (!cluster_) return fn(user, DHL_OK, n), DHL_OK;
    queue([fn, user, n, complete] { fn(user, complete ? DHL_OK : DHL_ERR_TIMEOUT, n); });
    return DHL_OK;
  }

  struct Route {
    dhl_http_fn fn;
    void* user;
    std::size_t max_body;
  };
  struct HttpRequestState {  // dhl_http_request::host_data
    HttpPtr result;
    std::vector<std::pair<std::string, std::string>> headers;
    bool deferred;
  };
  static void finish_http(HttpResult& r, int status, std::string type, std::string body) {
    r.answered = true;
    r.status = status;
    r.content_type = std::move(type);
    r.body = std::move(body);
  }

  // Converts into `keep` (the tree's arrays live there) and returns the root.
  static dhl_redis_reply to_c(const FakeRedisReply& r,
                              std::vector<std::vector<dhl_redis_reply>>& keep) {
    dhl_redis_reply out{r.type, r.integer, ds(r.str), nullptr, 0};
    if (r.type != DHL_REDIS_ARRAY) return out;
    std::vector<dhl_redis_reply> children;
    for (const FakeRedisReply& e : r.elements) children.push_back(to_c(e, keep));
    keep.push_back(std::move(children));
    out.elements = keep.back().data();
    out.element_count = r.elements.size();
    return out;
  }

  int redis_call(std::vector<std::string> argv, dhl_redis_fn fn, void* user) {
    if (!fn) return DHL_ERR_INVALID;
    if (!cluster_ || !cluster_->redis_up || !cluster_->redis) return DHL_ERR_UNAVAILABLE;
    cluster_->commands.push_back(argv);
    FakeRedisReply reply = cluster_->redis(argv);
    queue([reply, fn, user] {
      std::vector<std::vector<dhl_redis_reply>> keep;
      dhl_redis_reply c = to_c(reply, keep);
      fn(user, reply.type == DHL_REDIS_ERROR ? DHL_ERR_REDIS : DHL_OK, &c);
    });
    return DHL_OK;
  }

  int node_emit(dhl_str event, const dhl_payload* p, dhl_broadcast_ack_fn fn, void* user) {
    if (!valid(p) || (p && p->attachment_count)) return DHL_ERR_INVALID;
    std::string e(sv(event));
    std::string args = p && p->json_len ? std::string(p->json, p->json_len) : "[]";
    std::vector<FakeHost*> others;
    if (cluster_)
      for (FakeHost* n : cluster_->nodes)
        if (n != this) others.push_back(n);
    auto answers = std::make_shared<std::vector<std::string>>();
    auto left = std::make_shared<std::size_t>(others.size());
    auto done = [answers, fn, user] {
      std::vector<dhl_payload> ps;
      for (const std::string& a : *answers) ps.push_back({a.data(), a.size(), nullptr, 0});
      fn(user, DHL_OK, ps.data(), ps.size());
    };
    if (others.empty() && fn) queue(done);
    for (FakeHost* n : others)
      n->queue([this, n, e, args, fn, answers, left, done] {
        std::optional<std::string> a = n->deliver_node_message(e, args, fn != nullptr);
        if (a) answers->push_back("[" + *a + "]");
        if (--*left == 0 && fn) queue(done);
      });
    return DHL_OK;
  }

  // The C entry points.
  static dhl_host make_api() {
    dhl_host h{};
    h.struct_size = sizeof(dhl_host);
    h.abi_major = DHL_ABI_MAJOR;
    h.abi_minor = DHL_ABI_MINOR;
    h.log = [](dhl_ctx* c, int level, dhl_str m) { self(c).log(level, sv(m)); };
    h.config = [](dhl_ctx* c) { return ds(self(c).config_); };
    h.socket_info = [](dhl_ctx* c, const dhl_socket* s, int key) -> dhl_str {
      FakeSocket* live_socket = live(c, s, "socket_info");
      if (!live_socket) return {nullptr, 0};
      FakeSocket& so = *live_socket;
      switch (key) {
        case DHL_INFO_ID:
          return ds(so.id);
        case DHL_INFO_NAMESPACE:
          return ds(so.nsp);
        case DHL_INFO_ADDRESS:
          return ds(so.address);
        case DHL_INFO_URL:
          return ds(so.url);
        case DHL_INFO_AUTH:
          return ds(so.auth);
        case DHL_INFO_CLAIMS:
          return so.claims ? ds(*so.claims) : dhl_str{nullptr, 0};
        case DHL_INFO_USER_ID:
          return so.user_id.empty() ? dhl_str{nullptr, 0} : ds(so.user_id);
        case DHL_INFO_TRANSPORT:
          return ds(so.transport);
        default:
          return {nullptr, 0};
      }
    };
    h.socket_header = [](dhl_ctx* c, const dhl_socket* s, dhl_str n) {
      FakeSocket* so = live(c, s, "socket_header");
      return so ? lookup(so->headers, sv(n)) : dhl_str{nullptr, 0};
    };
    h.socket_query = [](dhl_ctx* c, const dhl_socket* s, dhl_str n) {
      FakeSocket* so = live(c, s, "socket_query");
      return so ? lookup(so->query, sv(n)) : dhl_str{nullptr, 0};
    };
    h.socket_header_at = [](dhl_ctx* c, const dhl_socket* s, size_t i, dhl_str* n, dhl_str* v) {
      int error = 0;
      FakeSocket* so = self(c).live(s, "socket_header_at", error);
      return so ? at(so->headers, i, n, v) : error;
    };
    h.socket_query_at = [](dhl_ctx* c, const dhl_socket* s, size_t i, dhl_str* n, dhl_str* v) {
      int error = 0;
      FakeSocket* so = self(c).live(s, "socket_query_at", error);
      return so ? at(so->query, i, n, v) : error;
    };
    h.socket_data = [](dhl_ctx* c, const dhl_socket* s) {
      FakeSocket* so = live(c, s, "socket_data");
      return so ? so->data : nullptr;
    };
    h.socket_set_data = [](dhl_ctx* c, dhl_socket* s, void* d) {
      if (FakeSocket* so = live(c, s, "socket_set_data")) so->data = d;
    };
    h.socket_find = [](dhl_ctx* c, dhl_str nsp, dhl_str id) -> dhl_socket* {
      std::string_view n = nsp.len ? sv(nsp) : "/";
      for (auto& s : self(c).sockets_)
        if (s->connected && s->nsp == n && s->id == sv(id)) return self(c).handle(*s);
      return nullptr;
    };
    h.emit = [](dhl_ctx* c, dhl_socket* s, dhl_str event, const dhl_payload* p) {
      int error = 0;
      FakeSocket* so = self(c).live(s, "emit", error);
      if (!so) return error;
      if (!valid(p)) return DHL_ERR_INVALID;
      if (!so->connected) return DHL_ERR_GONE;
      so->received.push_back({std::string(sv(event)), decode(p)});
      return DHL_OK;
    };
    h.emit_with_ack = [](dhl_ctx* c, dhl_socket* s, dhl_str event, const dhl_payload* p, uint32_t,
                         dhl_ack_fn fn, void* user) {
      int error = 0;
      FakeSocket* so = self(c).live(s, "emit_with_ack", error);
      if (!so) return error;
      if (!valid(p) || !fn) return DHL_ERR_INVALID;
      if (!so->connected) return DHL_ERR_GONE;
      so->received.push_back({std::string(sv(event)), decode(p)});
      so->acks.push_back({std::string(sv(event)), decode(p), fn, user});
      return DHL_OK;
    };
    h.emit_to = [](dhl_ctx* c, const dhl_target* t, dhl_str e, const dhl_payload* p) {
      return self(c).emit_to(t, e, p);
    };
    h.emit_to_with_ack = [](dhl_ctx* c, const dhl_target* t, dhl_str e, const dhl_payload* p,
                            uint32_t, dhl_broadcast_ack_fn fn, void* user) {
      int rc = self(c).emit_to(t, e, p);
      if (rc == DHL_OK) fn(user, DHL_OK, nullptr, 0);
      return rc;
    };
    h.emit_to_user = [](dhl_ctx* c, dhl_str nsp, dhl_str user, dhl_str e, const dhl_payload* p) {
      std::string room = DHL_USER_ROOM_PREFIX + std::string(sv(user));
      dhl_str rooms[] = {ds(room)};
      dhl_target t{nsp, rooms, 1, nullptr, 0, 0};
      return self(c).emit_to(&t, e, p);
    };
    h.join = [](dhl_ctx* c, dhl_socket* s, dhl_str room) {
      int error = 0;
      FakeSocket* so = self(c).live(s, "join", error);
      if (!so) return error;
      if (!so->connected) return DHL_ERR_GONE;
      so->rooms.insert(std::string(sv(room)));
      return DHL_OK;
    };
    h.leave = [](dhl_ctx* c, dhl_socket* s, dhl_str room) {
      int error = 0;
      FakeSocket* so = self(c).live(s, "leave", error);
      if (!so) return error;
      if (!so->connected) return DHL_ERR_GONE;
      so->rooms.erase(std::string(sv(room)));
      return DHL_OK;
    };
    h.disconnect = [](dhl_ctx* c, dhl_socket* s, int) {
      int error = 0;
      FakeSocket* so = self(c).live(s, "disconnect", error);
      if (!so) return error;
      if (!so->connected) return DHL_ERR_GONE;
      self(c).disconnect(*so, "server namespace disconnect");
      return DHL_OK;
    };
    h.reply = [](dhl_ctx* c, dhl_call* call, const dhl_payload* p) {
      return self(c).reply(call, p);
    };
    h.reply_error = [](dhl_ctx* c, dhl_call* call, dhl_str code) {
      std::string text = Json::array({Json::object({{"error", sv(code)}})}).dump();
      dhl_payload p{text.data(), text.size(), nullptr, 0};
      return self(c).reply(call, &p);
    };
    h.call_defer = [](dhl_ctx* c, dhl_call* call) { return self(c).defer(call); };
    h.call_wants_ack = [](dhl_ctx* c, const dhl_call* call) -> int {
      FakeHost& fh = self(c);
      if (reinterpret_cast<uintptr_t>(call) & 1u) {
        std::lock_guard lock(fh.mutex_);
        auto it = fh.deferred_.find(reinterpret_cast<uintptr_t>(call));
        return it == fh.deferred_.end() ? DHL_ERR_DONE : it->second.want_ack ? 1 : 0;
      }
      return reinterpret_cast<const SyncCall*>(call)->want_ack ? 1 : 0;
    };
    h.post = [](dhl_ctx* c, dhl_task_fn fn, void* user) {
      FakeHost& fh = self(c);
      std::lock_guard lock(fh.mutex_);
      if (fh.stopping_) return DHL_ERR_GONE;
      fh.tasks_.push_back([fn, user] { fn(user); });
      return DHL_OK;
    };
    h.timer_create = [](dhl_ctx* c, dhl_timer_fn fn, void* user) {
      auto t = std::make_unique<Timer>(Timer{fn, user});
      Timer* raw = t.get();
      self(c).timers_.emplace(raw, std::move(t));
      return reinterpret_cast<dhl_timer*>(raw);
    };
    h.timer_arm = [](dhl_ctx* c, dhl_timer* t, uint64_t ms) {
      auto* timer = reinterpret_cast<Timer*>(t);
      timer->armed = true;
      timer->due = self(c).now_ + ms;
      return DHL_OK;
    };
    h.timer_disarm = [](dhl_ctx*, dhl_timer* t) {
      reinterpret_cast<Timer*>(t)->armed = false;
      return DHL_OK;
    };
    h.timer_destroy = [](dhl_ctx* c, dhl_timer* t) {
      self(c).timers_.erase(reinterpret_cast<Timer*>(t));
    };
    h.now_ms = [](dhl_ctx* c) { return self(c).now_; };
    h.send_message = [](dhl_ctx* c, dhl_str plugin, dhl_str topic, dhl_str json) {
      FakeHost& f = self(c);
      f.sent_messages.push_back({std::string(sv(plugin)), std::string(sv(topic)),
                                 Json::parse(sv(json)).value_or(Json())});
      return f.message_answer;
    };
    h.node_id = [](dhl_ctx* c) { return ds(self(c).node_id_); };
    h.node_clustered = [](dhl_ctx* c) { return self(c).cluster_ ? 1 : 0; };
    h.node_events = [](dhl_ctx* c, dhl_node_fn fn, void* user) {
      self(c).node_fn_ = fn;
      self(c).node_user_ = user;
      return DHL_OK;
    };
    h.redis_command = [](dhl_ctx* c, const dhl_str* argv, size_t argc, uint32_t, dhl_redis_fn fn,
                         void* user) {
      if (argc == 0 || !argv) return DHL_ERR_INVALID;
      std::vector<std::string> a;
      for (std::size_t i = 0; i < argc; ++i) a.emplace_back(sv(argv[i]));
      return self(c).redis_call(std::move(a), fn, user);
    };
    h.redis_script = [](dhl_ctx* c, dhl_str script, const dhl_str* keys, size_t nk,
                        const dhl_str* args, size_t na, uint32_t, dhl_redis_fn fn, void* user) {
      std::vector<std::string> a{"EVAL", std::string(sv(script)), std::to_string(nk)};
      for (std::size_t i = 0; i < nk; ++i) a.emplace_back(sv(keys[i]));
      for (std::size_t i = 0; i < na; ++i) a.emplace_back(sv(args[i]));
      return self(c).redis_call(std::move(a), fn, user);
    };
    h.node_messages = [](dhl_ctx* c, dhl_node_message_fn fn, void* user) {
      self(c).message_fn_ = fn;
      self(c).message_user_ = user;
      return DHL_OK;
    };
    h.node_emit = [](dhl_ctx* c, dhl_str event, const dhl_payload* p, uint32_t,
                     dhl_broadcast_ack_fn fn,
                     void* user) { return self(c).node_emit(event, p, fn, user); };
    h.http_route = [](dhl_ctx* c, dhl_str method, dhl_str path, size_t max_body, dhl_http_fn fn,
                      void* user) {
      std::string key = std::string(sv(method)) + " " + std::string(sv(path));
      if (!fn || (sv(method) != "GET" && sv(method) != "POST")) return DHL_ERR_INVALID;
      return self(c).routes_.emplace(key, Route{fn, user, max_body}).second ? DHL_OK
                                                                            : DHL_ERR_REFUSED;
    };
    h.http_header = [](dhl_ctx*, const dhl_http_request* req, dhl_str name) -> dhl_str {
      if (!req || !req->host_data) return {nullptr, 0};
      return lookup(static_cast<const HttpRequestState*>(req->host_data)->headers, sv(name));
    };
    h.target_count = [](dhl_ctx* c, const dhl_target* t) -> int64_t {
      return t ? self(c).count(t) : DHL_ERR_INVALID;
    };
    h.target_count_async = [](dhl_ctx* c, const dhl_target* t, dhl_count_fn fn, void* user) {
      if (!t || !fn) return DHL_ERR_INVALID;
      return self(c).count_async(t, fn, user);
    };
    h.http_defer = [](dhl_ctx* c, const dhl_http_request* req) -> dhl_http_reply* {
      if (!req || !req->host_data) return nullptr;
      auto* st = static_cast<HttpRequestState*>(const_cast<void*>(req->host_data));
      if (st->deferred) return nullptr;
      st->deferred = true;
      FakeHost& f = self(c);
      uintptr_t id = ++f.next_http_;
      f.open_http_[id] = st->result;
      return reinterpret_cast<dhl_http_reply*>(id);
    };
    h.http_reply = [](dhl_ctx* c, dhl_http_reply* r, const dhl_http_response* res) {
      FakeHost& f = self(c);
      auto it = f.open_http_.find(reinterpret_cast<uintptr_t>(r));
      if (it == f.open_http_.end() || !res) return DHL_ERR_INVALID;
      HttpPtr result = it->second;
      f.open_http_.erase(it);
      finish_http(*result, res->status ? res->status : 200,
                  res->content_type.len ? std::string(sv(res->content_type)) : "application/json",
                  std::string(sv(res->body)));
      return DHL_OK;
    };
    h.node_answer = [](dhl_ctx* c, dhl_node_answer* a, dhl_str json) {
      FakeHost& host = self(c);
      if (!a || !host.answering_ || host.answer_) return DHL_ERR_DONE;
      if (!Json::parse(sv(json))) return DHL_ERR_INVALID;
      host.answer_ = std::string(sv(json));
      return DHL_OK;
    };
    h.session_changed = [](dhl_ctx* c, dhl_socket* s) {
      int error = 0;
      FakeSocket* so = self(c).live(s, "session_changed", error);
      if (!so) return error;
      if (!so->connected) return DHL_ERR_INVALID;
      ++so->session_changes;
      return DHL_OK;
    };
    // One node: no shared log, logged at once.
    h.emit_to_logged = [](dhl_ctx* c, const dhl_target* t, dhl_str e, const dhl_payload* p,
                          dhl_status_fn fn, void* user) {
      if (!fn) return DHL_ERR_INVALID;
      int rc = self(c).emit_to(t, e, p);
      if (rc == DHL_OK) fn(user, DHL_OK);
      return rc;
    };
    return h;
  }

  using Pairs = std::vector<std::pair<std::string, std::string>>;
  static dhl_str lookup(const Pairs& pairs, std::string_view name) {
    for (const auto& [k, v] : pairs)
      if (k == name) return ds(v);
    return {nullptr, 0};
  }
  static int at(const Pairs& pairs, std::size_t i, dhl_str* n, dhl_str* v) {
    if (i >= pairs.size()) return DHL_ERR_NOTFOUND;
    *n = ds(pairs[i].first);
    *v = ds(pairs[i].second);
    return DHL_OK;
  }

  const dhl_plugin_desc* desc_;
  std::string config_;
  std::thread::id loop_;
  dhl_host api_{};
  void* state_ = nullptr;
  int init_result_ = 0;
  bool initialized_ = false;
  bool stopping_ = false;
  std::vector<std::unique_ptr<FakeSocket>> sockets_;
  std::map<const FakeSocket*, std::size_t> index_;  // in sockets_
  std::set<const FakeSocket*> released_;            // disconnected: their handles are stale
  std::size_t stale_handle_uses_ = 0;
  int next_socket_ = 0;
  SyncCall* current_ = nullptr;
  mutable std::mutex mutex_;
  std::map<uintptr_t, Deferred> deferred_;
  uintptr_t next_call_ = 1;
  std::vector<std::function<void()>> tasks_;
  std::map<Timer*, std::unique_ptr<Timer>> timers_;
  uint64_t now_ = 0;
  std::string node_id_;
  FakeCluster* cluster_ = nullptr;
  dhl_node_fn node_fn_ = nullptr;
  void* node_user_ = nullptr;
  dhl_node_message_fn message_fn_ = nullptr;
  void* message_user_ = nullptr;
  std::optional<std::string> answer_;
  bool answering_ = false;
  std::map<std::string, Route> routes_;  // "POST /path"
  std::map<uintptr_t, HttpPtr> open_http_;
  uintptr_t next_http_ = 0;
};

inline void FakeCluster::join(FakeHost& node) {
  for (FakeHost* n : nodes) n->node_event(true, node.node_id());
  nodes.push_back(&node);
}

inline void FakeCluster::leave(FakeHost& node) {
  std::erase(nodes, &node);
  for (FakeHost* n : nodes) n->node_event(false, node.node_id());
}

}  // namespace dhl::testing
