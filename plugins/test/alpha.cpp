// e2e test plugin "alpha": synchronous and asynchronous methods, errors,
// rooms, timers, posts and server-to-client acks, and a socket handle kept
// past its socket ($keep, $useKept). Config: {"workers": N}.
#include <daheim/plugin.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Holds replies until their deadline and answers them from its own thread:
// many calls in flight without a thread each.
class Holder {
 public:
  Holder() : thread_([this] { run(); }) {}
  ~Holder() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void hold(std::chrono::milliseconds delay, dhl::Promise promise, dhl::Json value) {
    {
      std::lock_guard lock(mutex_);
      items_.push(Item{Clock::now() + delay, seq_++,
                       std::make_shared<dhl::Promise>(std::move(promise)), std::move(value)});
    }
    cv_.notify_all();
  }

 private:
  struct Item {
    Clock::time_point due;
    uint64_t seq;
    std::shared_ptr<dhl::Promise> promise;
    dhl::Json value;
    bool operator>(const Item& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (items_.empty()) {
        cv_.wait(lock);
        continue;
      }
      Clock::time_point due = items_.top().due;  // a copy: pushes may move the heap
      if (cv_.wait_until(lock, due) != std::cv_status::timeout && !stop_) continue;
      std::vector<Item> ripe;
      while (!items_.empty() && items_.top().due <= Clock::now()) {
        ripe.push_back(items_.top());
        items_.pop();
      }
      lock.unlock();
      for (Item& i : ripe) i.promise->resolve(i.value);
      lock.lock();
    }
    while (!items_.empty()) {  // stopping: answer what is left
      items_.top().promise->resolve(items_.top().value);
      items_.pop();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> items_;
  uint64_t seq_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

class Alpha {
 public:
  struct SocketState {
    int calls = 0;
  };

  explicit Alpha(dhl::Host& host)
      : host_(host),
        pool_(host, static_cast<unsigned>(host.config()["workers"].as_int(2)),
              static_cast<std::size_t>(
                  host.config()["maxQueued"].as_int(dhl::WorkerPool::kDefaultMaxQueued))) {
    if (host.config()["failInit"].as_bool()) throw std::runtime_error("failInit was set");
    host_.info("alpha ready");
  }

  void onConnect(dhl::Socket& socket) {
    ++connects_;
    socket.emit("welcome", dhl::Json::object({{"plugin", "alpha"}, {"id", socket.id()}}));
  }

  void onDisconnect(dhl::Socket& socket, std::string_view reason) {
    host_.info("alpha: " + std::string(socket.id()) + " left (" + std::string(reason) + ")");
  }

  dhl::AckArgs echo(dhl::Socket& socket, const dhl::Json& args) {
    ++socket.state<SocketState>().calls;
    return {args};
  }

  dhl::Json add(dhl::Socket&, const dhl::Json& args) {
    if (!args[0].is_number() || !args[1].is_number()) throw dhl::Error("badRequest");
    return args[0].as_int() + args[1].as_int();
  }

  dhl::Json whoami(dhl::Socket& socket, const dhl::Json&) {
    dhl::Json query = dhl::Json::object();
    for (auto [k, v] : socket.query_params()) query[k] = v;
    return dhl::Json::object({{"id", socket.id()},
                              {"nsp", socket.nsp()},
                              {"address", socket.address()},
                              {"transport", socket.transport()},
                              {"query", query},
                              {"userAgent", socket.header("user-agent").value_or("")},
                              {"auth", socket.auth()},
                              {"claims", socket.claims()},
                              {"calls", socket.state<SocketState>().calls}});
  }

  // [ms, value]: answered by a worker thread after sleeping ms.
  dhl::Future slow(dhl::Socket&, const dhl::Json& args) {
    auto ms = std::chrono::milliseconds(args[0].as_int());
    dhl::Json value = args[1];
    return pool_.async([ms, value] {
      std::this_thread::sleep_for(ms);
      return value;
    });
  }

  // [ms, value]: answered by the holder thread after ms (no sleeping thread each).
  dhl::Future hold(dhl::Socket&, const dhl::Json& args) {
    dhl::Promise p;
    dhl::Future f = p.future();
    holder_.hold(std::chrono::milliseconds(args[0].as_int()), std::move(p), args[1]);
    return f;
  }

  // A worker throws: a coded error or anything else.
  dhl::Future slowFail(dhl::Socket&, const dhl::Json& args) {
    std::string code(args[0].as_string());
    return pool_.async([code]() -> dhl::Json {
      if (code.empty()) throw std::runtime_error("worker exploded");
      throw dhl::Error(code);
    });
  }

  dhl::Json fail(dhl::Socket&, const dhl::Json& args) {
    throw dhl::Error(std::string(args[0].as_string("failed")));
  }

  dhl::Json crash(dhl::Socket&, const dhl::Json&) {
    throw std::runtime_error("alpha crashed on purpose");
  }

  void nothing(dhl::Socket&, const dhl::Json&) {}

  dhl::Json join(dhl::Socket& socket, const dhl::Json& args) {
    return socket.join(args[0].as_string()) == DHL_OK;
  }

  // [room, event, payload]: broadcast to the room (this socket included).
  dhl::Json toRoom(dhl::Socket& socket, const dhl::Json& args) {
    return host_.emit_to_room(socket.nsp(), args[0].as_string(), args[1].as_string(), args[2]) ==
           DHL_OK;
  }

  // [event]: a worker posts to the loop, which emits `event` to this socket.
  dhl::Future postEmit(dhl::Socket& socket, const dhl::Json& args) {
    auto promise = std::make_shared<dhl::Promise>();
    dhl::Future f = promise->future();
    std::string nsp(socket.nsp()), id(socket.id()), event(args[0].as_string());
    pool_.run([this, promise, nsp, id, event] {
      bool queued = host_.post([this, promise, nsp, id, event] {
        std::optional<dhl::Socket> s = host_.find(nsp, id);
        promise->resolve(s && s->emit(event, "posted") == DHL_OK);
      });
      if (!queued) promise->reject("stopping");
    });
    return f;
  }

  // [ms]: a timer emits `tick` to this socket after ms, then destroys itself.
  dhl::Json timer(dhl::Socket& socket, const dhl::Json& args) {
    int key = next_timer_++;
    std::string nsp(socket.nsp()), id(socket.id());
    auto t = std::make_unique<dhl::Timer>(host_, [this, key, nsp, id] {
      if (auto s = host_.find(nsp, id)) s->emit("tick", key);
      timers_.erase(key);  // destroys this timer from its own callback
    });
    t->arm(std::chrono::milliseconds(args[0].as_int()));
    timers_.emplace(key, std::move(t));
    return key;
  }

  // Asks the client `question` (with an ack) and answers with its answer.
  dhl::Future ask(dhl::Socket& socket, const dhl::Json& args) {
    auto promise = std::make_shared<dhl::Promise>();
    dhl::Future f = promise->future();
    int rc = socket.emit_with_ack("question", dhl::Json::array({args[0]}), 2000ms,
                                  [promise](std::optional<dhl::Json> answer) {
                                    if (answer)
                                      promise->resolve(dhl::Json::object({{"answer", *answer}}));
                                    else
                                      promise->reject("timeout");
                                  });
    if (rc != DHL_OK) promise->reject("notSent");
    return f;
  }

  // [path]: asks for an HTTP route after start-up; answers the status code.
  dhl::Json lateRoute(dhl::Socket&, const dhl::Json& args) {
    if (!DHL_HOST_HAS(host_.api(), http_route)) return "no http_route";
    std::string_view path = args[0].as_string("/late");
    auto fn = [](void*, const dhl_http_request*, dhl_http_response* res) { res->status = 200; };
    return host_.api()->http_route(host_.ctx(), {"GET", 3}, {path.data(), path.size()}, 0, fn,
                                   nullptr);
  }

  // Keeps this socket's raw handle past the call: the plugin bug the host
  // must survive (tests/e2e/plugin-handles.test.mjs).
  dhl::Json keep(dhl::Socket& socket, const dhl::Json&) {
    kept_ = socket.handle();
    return true;
  }

  // Uses the kept handle: what each host function answered.
  dhl::Json useKept(dhl::Socket&, const dhl::Json&) {
    const dhl_host* api = host_.api();
    dhl_ctx* ctx = host_.ctx();
    dhl_str id = api->socket_info(ctx, kept_, DHL_INFO_ID);
    return dhl::Json::object({{"id", id.ptr ? dhl::Json(std::string(id.ptr, id.len)) : dhl::Json()},
                              {"data", api->socket_data(ctx, kept_) != nullptr},
                              {"emit", api->emit(ctx, kept_, {"kept", 4}, nullptr)},
                              {"join", api->join(ctx, kept_, {"kept", 4})},
                              {"disconnect", api->disconnect(ctx, kept_, 1)}});
  }

  dhl::Json stats(dhl::Socket&, const dhl::Json&) {
    return dhl::Json::object(
        {{"connects", connects_}, {"timers", static_cast<int64_t>(timers_.size())}});
  }

 private:
  dhl::Host& host_;
  dhl::WorkerPool pool_;
  Holder holder_;
  int connects_ = 0;
  int next_timer_ = 0;
  dhl_socket* kept_ = nullptr;
  std::map<int, std::unique_ptr<dhl::Timer>> timers_;
};

}  // namespace

DHL_PLUGIN(Alpha, "alpha", "1.0.0", dhl::method<&Alpha::echo>("$echo"),
           dhl::method<&Alpha::add>("$add"), dhl::method<&Alpha::whoami>("$whoami"),
           dhl::method<&Alpha::slow>("$slow"), dhl::method<&Alpha::hold>("$hold"),
           dhl::method<&Alpha::slowFail>("$slowFail"), dhl::method<&Alpha::fail>("$fail"),
           dhl::method<&Alpha::crash>("$crash"), dhl::method<&Alpha::nothing>("$nothing"),
           dhl::method<&Alpha::join>("$join"), dhl::method<&Alpha::toRoom>("$toRoom"),
           dhl::method<&Alpha::postEmit>("$postEmit"), dhl::method<&Alpha::timer>("$timer"),
           dhl::method<&Alpha::ask>("$ask"), dhl::method<&Alpha::stats>("$stats"),
           dhl::method<&Alpha::lateRoute>("$lateRoute"), dhl::method<&Alpha::keep>("$keep"),
           dhl::method<&Alpha::useKept>("$useKept"))
