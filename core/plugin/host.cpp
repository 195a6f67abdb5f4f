#include "plugin/host.hpp"

#include <filesystem>
#include <span>
#include <utility>

#include "log/log.hpp"
#include "plugin/host_api.hpp"
#include "plugin/payload.hpp"
#include "plugin/socket_counters.hpp"
#include "socketio/namespace.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::plugin {
namespace {

constexpr std::string_view kUnhandled = R"([{"error":"unhandled"}])";
constexpr std::string_view kOverloaded = R"([{"error":"overloaded"}])";
constexpr std::string_view kTimeout = R"([{"error":"timeout"}])";
constexpr std::size_t kWarningsPerSecond = 20;

log::Level to_level(int level) {
  if (level <= DHL_LOG_ERROR) return log::Level::Error;
  if (level >= DHL_LOG_DEBUG) return log::Level::Debug;
  return static_cast<log::Level>(level);
}

}  // namespace

// Every entry into plugin code from the loop goes through one: at the
// outermost level it frees the timers plugins destroyed meanwhile (a timer
// may destroy itself from its own callback).
class Host::PluginCallScope {
 public:
  explicit PluginCallScope(Host& host) : host_(host) {
    if (host_.depth_++ == 0) host_.collect();
  }
  ~PluginCallScope() { --host_.depth_; }
  PluginCallScope(const PluginCallScope&) = delete;
  PluginCallScope& operator=(const PluginCallScope&) = delete;

 private:
  Host& host_;
};

std::string default_plugin_dir() {
  return DHL_DEFAULT_PLUGIN_DIR;
}

std::string resolve_plugin_path(const std::string& dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || dir.empty()) return p.lexically_normal().string();
  return (std::filesystem::path(dir) / p).lexically_normal().string();
}

Host::Host(socketio::Server& io, loop::Inbox& inbox, HostOptions options)
    : io_(io),
      options_(options),
      loop_thread_(std::this_thread::get_id()),
      lane_(inbox),
      http_replies_(io.timers(), options.call_timeout),
      alive_(std::make_shared<Host*>(this)),
      nodes_(io) {}

Host::~Host() {
  shutdown();
}

// ---- Loading ----------------------------------------------------------------

std::string Host::load(const std::vector<PluginSpec>& specs) {
  if (shut_down_) return "plugins: the host has shut down";
  std::size_t first = plugins_.size();
  for (const PluginSpec& spec : specs) {
    std::string error = load_one(spec);
    if (!error.empty()) {
      roll_back(first);
      return error;
    }
  }
  if (!nodes_installed_) nodes_.install();
  nodes_installed_ = true;
  return {};
}

// Shuts down and unloads the plugins loaded from index `first` on (reverse
// order); their accepted tasks run first.
void Host::roll_back(std::size_t first) {
  {
    PluginCallScope scope(*this);
    lane_.run();
  }
  while (plugins_.size() > first) {
    dhl_ctx& ctx = *plugins_.back();
    nodes_.release(&ctx);
    if (ctx.initialized && ctx.desc().shutdown) {
      PluginCallScope scope(*this);
      ctx.desc().shutdown(ctx.state);
    }
    unload_last();
  }
}

std::string Host::load_one(const PluginSpec& spec) {
  std::string error;
  std::unique_ptr<Library> lib = Library::open(spec.path, error);
  if (!lib) return error;
  auto ctx = std::make_unique<dhl_ctx>();
  ctx->host = this;
  ctx->index = plugins_.size();
  ctx->slot_key = plugin_slot_key(ctx->index);
  ctx->config = spec.config_json.empty() ? "null" : spec.config_json;
  ctx->library = std::move(lib);
  if (error = add_routes(*ctx); !error.empty()) return error;
  dhl_ctx& c = *ctx;
  plugins_.push_back(std::move(ctx));
  if (dhl_init_fn init = c.desc().init) {
    PluginCallScope scope(*this);
    if (int rc = init(&c, &host_api(), &c.state); rc != 0) {
      error = "plugin " + spec.path + " (" + std::string(c.name()) + "): init failed (returned " +
              std::to_string(rc) + ")";
      unload_last();
      return error;
    }
  }
  c.initialized = true;
  log::notice("plugin {} {} loaded from {} ({} methods)", c.name(), c.library->version(), spec.path,
              c.desc().method_count);
  return {};
}

std::string Host::add_routes(dhl_ctx& ctx) {
  std::span<const dhl_method> methods = ctx.library->methods();
  ctx.calls.assign(methods.size(), CallStats{});  // never resized: routes point into it
  for (std::size_t i = 0; i < methods.size(); ++i) {
    const dhl_method& m = methods[i];
    std::string_view event = m.name + 1;
    auto it = routes_.find(event);
    if (it != routes_.end()) {
      std::string other =
          it->second.ctx ? "plugin " + it->second.ctx->library->path() : "the server";
      remove_routes(ctx);
      return "plugin " + ctx.library->path() + ": method " + m.name + " is also defined by " +
             other;
    }
    routes_.emplace(std::string(event), Route{&ctx, &m, nullptr, &ctx.calls[i]});
  }
  return {};
}

bool Host::add_method(std::string event, BuiltinMethod method) {
  if (routes_.count(event) > 0) return false;
  builtins_.push_back(std::make_unique<BuiltinMethod>(std::move(method)));
  routes_.emplace(std::move(event), Route{nullptr, nullptr, builtins_.back().get(), nullptr});
  return true;
}

void Host::remove_routes(const dhl_ctx& ctx) {
  std::erase_if(routes_, [&](const auto& r) { return r.second.ctx == &ctx && r.second.method; });
}

// Rolls back a plugin whose init failed: nothing it queued may run.
void Host::unload_last() {
  dhl_ctx& ctx = *plugins_.back();
  remove_routes(ctx);
  lane_.discard(&ctx);
  calls_.drop(&ctx);
  http_replies_.release(&ctx);
  plugins_.pop_back();
}

void Host::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  *alive_ = nullptr;  // namespace handlers and ack callbacks become no-ops
  lane_.close();
  call_timer_.reset();
  {
    PluginCallScope scope(*this);
    lane_.run();  // accepted tasks run before their plugin's shutdown
  }
  // Sockets still connected leave the plugins now (their transport may
  // outlive the host): every plugin sees on_disconnect before shutdown.
  for (socketio::Namespace* nsp : installed_)
    for (socketio::Socket* socket : nsp->fetch_sockets())
      on_disconnect(*socket, socketio::DisconnectReason::ServerShuttingDown);
  for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) {
    dhl_ctx& ctx = **it;
    {
      PluginCallScope scope(*this);
      nodes_.release(&ctx);  // pending Redis calls fail with DHL_ERR_GONE
    }
    http_replies_.release(&ctx);  // open HTTP requests: 503
    if (!ctx.initialized || !ctx.desc().shutdown) continue;
    PluginCallScope scope(*this);
    ctx.desc().shutdown(ctx.state);
  }
  if (std::size_t n = calls_.drop(nullptr))
    log::notice("plugins: {} deferred calls were never answered", n);
  routes_.clear();
  builtins_.clear();
  while (!plugins_.empty()) plugins_.pop_back();  // timers first, then the library
  dead_timers_.clear();
}

// ---- Namespaces ---------------------------------------------------------

void Host::install(socketio::Namespace& nsp) {
  installed_.push_back(&nsp);
  std::shared_ptr<Host*> alive = alive_;
  nsp.on_connection([alive](socketio::Socket& s) {
    if (Host* h = *alive) h->on_connect(s);
  });
  nsp.on_event([alive](socketio::Socket& s, socketio::Event& e) {
    if (Host* h = *alive) h->on_event(s, e);
  });
  nsp.on_disconnect([alive](socketio::Socket& s, socketio::DisconnectReason r) {
    if (Host* h = *alive) h->on_disconnect(s, r);
  });
  nsp.on_persist([alive](socketio::Socket& s, socketio::SavedSession& session) {
    if (Host* h = *alive) h->save_sessions(s, session);
  });
}

socketio::Socket* Host::socket_of(const dhl_ctx& ctx, const dhl_socket* handle, const char* fn,
                                  int& error) {
  bool known = false;
  socketio::Socket* socket = handles_.resolve(handle, known);
  if (socket) return socket;
  error = known ? DHL_ERR_GONE : DHL_ERR_INVALID;
  warn_limited("plugin " + std::string(ctx.name()) + ": " + fn +
               (known ? " with the handle of a socket that has left (refused: DHL_ERR_GONE)"
                      : " with a socket handle the host never gave (refused: DHL_ERR_INVALID)"));
  return nullptr;
}

dhl_socket* Host::handle_of(socketio::Socket& socket) {
  for (socketio::Namespace* nsp : installed_)
    if (&socket.nsp() == nsp) return handles_.handle(socket);
  return nullptr;
}

SocketUser Host::user_of(const socketio::Socket& socket) const {
  return user_lookup_ ? user_lookup_(socket) : SocketUser{};
}

void Host::on_connect(socketio::Socket& socket) {
  PluginCallScope scope(*this);
  SocketUser user = user_of(socket);
  if (!user.id.empty()) socket.join(std::string(DHL_USER_ROOM_PREFIX) + std::string(user.id));
  for (std::size_t i = 0; i < plugins_.size() && socket.connected(); ++i) {
    set_connected_plugins(socket, i + 1);  // before the call: it may disconnect
    dhl_ctx& ctx = *plugins_[i];
    if (socket.recovered()) restore_session(ctx, socket);
    if (!ctx.desc().on_connect) continue;
    ++ctx.hooks.connects;
    ctx.desc().on_connect(ctx.state, handles_.handle(socket));
  }
}

void Host::on_disconnect(socketio::Socket& socket, socketio::DisconnectReason reason) {
  PluginCallScope scope(*this);
  std::size_t n = std::min(connected_plugins(socket), plugins_.size());
  std::string_view why = socketio::to_string(reason);
  for (std::size_t i = 0; i < n; ++i) {
    dhl_ctx& ctx = *plugins_[i];
    if (!ctx.desc().on_disconnect) continue;
    ++ctx.hooks.disconnects;
    ctx.desc().on_disconnect(ctx.state, handles_.handle(socket), str(why));
  }
  clear_counters(socket);
  handles_.release(socket);  // a handle a plugin kept is stale from now on
}

// Before the disconnect handlers, for the plugins whose on_connect ran.
void Host::save_sessions(socketio::Socket& socket, socketio::SavedSession& session) {
  PluginCallScope scope(*this);
  std::size_t n = std::min(connected_plugins(socket), plugins_.size());
  for (std::size_t i = 0; i < n; ++i) {
    dhl_ctx& ctx = *plugins_[i];
    if (!ctx.desc().save_session) continue;
    dhl_str saved{nullptr, 0};
    ctx.desc().save_session(ctx.state, handles_.handle(socket), &saved);
    if (saved.ptr != nullptr)
      session.extensions.emplace_back(std::string(ctx.name()), std::string(saved.ptr, saved.len));
  }
}

void Host::restore_session(dhl_ctx& ctx, socketio::Socket& socket) {
  if (!ctx.desc().restore_session) return;
  const std::string* saved = socket.restored_extension(ctx.name());
  if (saved == nullptr) return;
  ctx.desc().restore_session(ctx.state, handles_.handle(socket),
                             dhl_str{saved->data(), saved->size()});
}

void Host::on_event(socketio::Socket& socket, socketio::Event& event) {
  PluginCallScope scope(*this);
  auto it = routes_.find(event.name);
  if (it == routes_.end()) return unhandled(socket, event);
  if (const BuiltinMethod* builtin = it->second.builtin) return (*builtin)(socket, event);
  if (pending_call_count(socket) >= options_.max_pending_calls ||
      calls_.size() >= options_.max_pending_calls_total) {
    it->second.stats->refuse(CallOutcome::Overloaded);
    if (event.ack_id) socket.ack(*event.ack_id, kOverloaded);
    warn_limited("plugins: socket " + std::string(socket.id()) +
                 " has too many calls pending (or the server has); answered overloaded");
    return;
  }
  call_method(it->second, socket, event);
}

void Host::unhandled(socketio::Socket& socket, const socketio::Event& event) {
  ++unhandled_events_;
  if (event.ack_id) socket.ack(*event.ack_id, kUnhandled);
  warn_limited("plugins: unhandled event \"" + std::string(event.name.substr(0, 64)) +
               "\" (no plugin has $" + std::string(event.name.substr(0, 64)) + ")");
}

void Host::call_method(const Route& route, socketio::Socket& socket, socketio::Event& event) {
  PayloadView args(event.args, event.attachments);
  SyncCall call{.ctx = route.ctx,
                .method = route.method->name,
                .socket = &socket,
                .ack_id = event.ack_id,
                .stats = route.stats,
                .started = std::chrono::steady_clock::now()};
  SyncCall* outer = std::exchange(current_, &call);
  try {
    route.method->fn(route.ctx->state, handles_.handle(socket), sync_handle(&call), &args.payload);
  } catch (...) {  // a C++ plugin that let an exception escape the ABI
    log::error("plugin {}: {} let an exception escape", route.ctx->name(), call.method);
    if (call.state == SyncCall::State::Open) {
      call.state = SyncCall::State::Answered;
      std::string error = error_args("internalServerError");
      PayloadView p(error, {});
      call.stats->finish(CallOutcome::Error, call.started);
      send(socket, *route.ctx, call.method, call.ack_id, &p.payload);
    }
  }
  current_ = outer;
  if (call.state == SyncCall::State::Open) {
    call.stats->finish(CallOutcome::Ok, call.started);
    send(socket, *route.ctx, call.method, call.ack_id, nullptr);
  }
}

// ---- Answers --------------------------------------------------------------

int Host::reply(dhl_ctx* ctx, dhl_call* call, const dhl_payload* result, CallOutcome outcome) {
  if (call == nullptr) return DHL_ERR_INVALID;
  if (is_deferred_handle(call)) return reply_later(call, result, outcome);
  if (!on_loop_thread()) return DHL_ERR_THREAD;
  auto* sync = reinterpret_cast<SyncCall*>(call);
  if (sync != current_ || sync->ctx != ctx || sync->state != SyncCall::State::Open)
    return DHL_ERR_DONE;
  sync->state = SyncCall::State::Answered;
  sync->stats->finish(outcome, sync->started);
  send(*sync->socket, *ctx, sync->method, sync->ack_id, result);
  return DHL_OK;
}

int Host::reply_later(dhl_call* call, const dhl_payload* result, CallOutcome outcome) {
  std::optional<PendingCall> pending = calls_.take(call);
  if (!pending) return DHL_ERR_DONE;
  if (on_loop_thread()) {
    complete(*pending, result, outcome);
    return DHL_OK;
  }
  Answer answer{result == nullptr, std::string(args_text(result)), copy_attachments(result),
                outcome};
  dhl_ctx* owner = pending->ctx;
  auto task = [this, p = std::move(*pending), a = std::move(answer)] {
    if (a.nothing) return complete(p, nullptr, a.outcome);
    PayloadView view(a.args, a.attachments);
    complete(p, &view.payload, a.outcome);
  };
  return lane_.post(owner, std::move(task)) ? DHL_OK : DHL_ERR_GONE;
}

void Host::complete(const PendingCall& call, const dhl_payload* result, CallOutcome outcome) {
  socketio::Socket* socket = call.nsp->socket(call.socket_id);
  --call.stats->pending;
  call.stats->finish(socket ? outcome : CallOutcome::Dropped, call.started);
  if (socket == nullptr) {
    log::debug("plugin {}: answer to {} dropped: socket {} has gone", call.ctx->name(), call.method,
               call.socket_id);
    return;
  }
  remove_pending_call(*socket);
  send(*socket, *call.ctx, call.method, call.ack_id, result);
}

void Host::send(socketio::Socket& socket, dhl_ctx& ctx, const char* method,
                std::optional<uint64_t> ack_id, const dhl_payload* result) {
  if (result == nullptr) {
    if (!ack_id) return;
    warn_limited("plugin " + std::string(ctx.name()) + ": " + method +
                 " returned nothing but the client expects an ack");
    socket.ack(*ack_id, "[null]");
    return;
  }
  if (!ack_id) {
    warn_limited("plugin " + std::string(ctx.name()) + ": " + method +
                 " returned a result but the client asked for no ack");
    return;
  }
  std::string_view args = args_text(result);
  socket.ack(*ack_id, args.empty() ? "[]" : args, copy_attachments(result));
}

dhl_call* Host::defer(dhl_ctx* ctx, dhl_call* call) {
  if (call == nullptr || is_deferred_handle(call) || !on_loop_thread()) return nullptr;
  auto* sync = reinterpret_cast<SyncCall*>(call);
  if (sync != current_ || sync->ctx != ctx || sync->state != SyncCall::State::Open) return nullptr;
  sync->state = SyncCall::State::Deferred;
  socketio::Socket& socket = *sync->socket;
  add_pending_call(socket);
  ++sync->stats->pending;
  dhl_call* handle = calls_.add({ctx, sync->method, &socket.nsp(), std::string(socket.id()),
                                 sync->ack_id, sync->stats, sync->started});
  if (!call_timer_ || !call_timer_->armed()) arm_call_timeout();
  return handle;
}

// One timer for every deferred call: calls are registered in dispatch order,
// so the oldest one is due first.
void Host::arm_call_timeout() {
  if (options_.call_timeout.count() <= 0 || shut_down_) return;
  std::optional<std::chrono::steady_clock::time_point> oldest = calls_.oldest();
  if (!oldest) {
    if (call_timer_) call_timer_->disarm();
    return;
  }
  if (!call_timer_)
    call_timer_ = std::make_unique<loop::Timer>(io_.timers(), [this] { expire_calls(); });
  auto due = *oldest + options_.call_timeout - std::chrono::steady_clock::now();
  call_timer_->arm(std::max(loop::Millis(0), std::chrono::ceil<loop::Millis>(due)));
}

void Host::expire_calls() {
  PluginCallScope scope(*this);
  auto cutoff = std::chrono::steady_clock::now() - options_.call_timeout;
  std::vector<PendingCall> expired = calls_.take_older(cutoff);
  for (const PendingCall& call : expired) {
    socketio::Socket* socket = call.nsp->socket(call.socket_id);
    --call.stats->pending;
    call.stats->finish(CallOutcome::Timeout, call.started);
    if (socket == nullptr) continue;
    remove_pending_call(*socket);
    if (call.ack_id) socket->ack(*call.ack_id, kTimeout);
  }
  if (!expired.empty())
    warn_limited("plugins: " + std::to_string(expired.size()) +
                 " deferred calls unanswered after " +
                 std::to_string(options_.call_timeout.count()) + " ms; answered timeout");
  arm_call_timeout();
}

int Host::wants_ack(const dhl_call* call) const {
  if (call == nullptr) return DHL_ERR_INVALID;
  if (is_deferred_handle(call)) {
    int w = calls_.wants_ack(call);
    return w < 0 ? DHL_ERR_DONE : w;
  }
  if (!on_loop_thread()) return DHL_ERR_THREAD;
  if (call != sync_handle(current_)) return DHL_ERR_DONE;
  return current_->ack_id ? 1 : 0;
}

StatsView Host::stats() const {
  StatsView view;
  view.unhandled_events = unhandled_events_;
  for (const auto& ctx : plugins_) {
    view.plugins.push_back({ctx->name(), &ctx->hooks});
    std::span<const dhl_method> methods = ctx->library->methods();
    for (std::size_t i = 0; i < methods.size(); ++i)
      view.methods.push_back({ctx->name(), methods[i].name, &ctx->calls[i]});
  }
  return view;
}

// ---- Tasks, timers, logs ------------------------------------------------------

int Host::post(dhl_ctx* ctx, dhl_task_fn fn, void* user) {
  if (fn == nullptr) return DHL_ERR_INVALID;
  bool queued = lane_.post(ctx, [this, fn, user] {
    PluginCallScope scope(*this);
    fn(user);
  });
  return queued ? DHL_OK : DHL_ERR_GONE;
}

dhl_timer* Host::create_timer(dhl_ctx* ctx, dhl_timer_fn fn, void* user) {
  auto timer = std::make_unique<dhl_timer>(io_.timers(), ctx, fn, user);
  dhl_timer* t = timer.get();
  ctx->timers.emplace(t, std::move(timer));
  return t;
}

bool Host::owns_timer(const dhl_ctx* ctx, const dhl_timer* timer) const {
  return timer != nullptr && ctx->timers.count(const_cast<dhl_timer*>(timer)) > 0;
}

void Host::destroy_timer(dhl_ctx* ctx, dhl_timer* timer) {
  auto it = ctx->timers.find(timer);
  if (it == ctx->timers.end()) return;
  timer->timer.disarm();
  timer->dead = true;
  dead_timers_.push_back(std::move(it->second));
  ctx->timers.erase(it);
}

void Host::fire_timer(dhl_timer& timer) {
  PluginCallScope scope(*this);
  if (!timer.dead) timer.fn(timer.user);
}

int Host::message(dhl_ctx& from, std::string_view to, std::string_view topic,
                  std::string_view json) {
  constexpr int kMaxNesting = 8;  // a plugin answering a message with one, and so on
  if (message_depth_ >= kMaxNesting) return DHL_ERR_REFUSED;
  for (const std::unique_ptr<dhl_ctx>& p : plugins_) {
    dhl_ctx& ctx = *p;
    if (&ctx == &from || ctx.name() != to) continue;
    if (!ctx.initialized || !ctx.desc().on_message) return DHL_ERR_NOTFOUND;
    PluginCallScope scope(*this);
    ++message_depth_;
    int rc = ctx.desc().on_message(ctx.state, str(from.name()), str(topic), str(json));
    --message_depth_;
    return rc;
  }
  return DHL_ERR_NOTFOUND;
}

void Host::collect() {
  dead_timers_.clear();
}

void Host::log(const dhl_ctx& ctx, int level, std::string_view message) const {
  log::Level l = to_level(level);
  if (log::enabled(l))
    log::write(l, "plugin " + std::string(ctx.name()) + ": " + std::string(message));
}

// At most kWarningsPerSecond lines a second: clients can trigger these.
void Host::warn_limited(std::string message) {
  auto now = std::chrono::steady_clock::now();
  if (now - warn_window_ >= std::chrono::seconds(1)) {
    if (warnings_suppressed_ > 0)
      log::warning("plugins: {} similar warnings suppressed", warnings_suppressed_);
    warn_window_ = now;
    warnings_in_window_ = 0;
    warnings_suppressed_ = 0;
  }
  if (warnings_in_window_++ < kWarningsPerSecond)
    log::warning("{}", message);
  else
    ++warnings_suppressed_;
}

}  // namespace daheim::plugin

void dhl_timer::fire() {
  ctx->host->fire_timer(*this);
}
