// e2e test plugin "beta", loaded after alpha: its own `$`-methods, a
// per-socket room and an asynchronous reply from a thread of its own.
#include <daheim/plugin.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

class Beta {
 public:
  explicit Beta(dhl::Host& host) : host_(host) {}
  ~Beta() {
    std::lock_guard lock(mutex_);
    for (std::thread& t : threads_) t.join();
  }

  void onConnect(dhl::Socket& socket) {
    socket.join("beta-room");
    socket.emit("beta-hello", socket.id());
  }

  void onDisconnect(dhl::Socket& socket, std::string_view reason) {
    host_.info("beta: " + std::string(socket.id()) + " left (" + std::string(reason) + ")");
  }

  dhl::Json ping(dhl::Socket&, const dhl::Json&) { return "pong"; }

  // [a, b, ms]: the sum, answered from a new thread after ms.
  void sumLater(dhl::Socket&, dhl::Call& call) {
    dhl::Json args = call.args();
    dhl::Reply reply = call.defer();
    int64_t sum = args[0].as_int() + args[1].as_int();
    auto ms = std::chrono::milliseconds(args[2].as_int());
    std::lock_guard lock(mutex_);
    threads_.emplace_back([reply = std::move(reply), sum, ms]() mutable {
      std::this_thread::sleep_for(ms);
      reply.resolve(sum);
    });
  }

  // [userId, text]: emits `note` to every socket of that user.
  dhl::Json notifyUser(dhl::Socket& socket, const dhl::Json& args) {
    return host_.emit_to_user(socket.nsp(), args[0].as_string(), "note", args[1]) == DHL_OK;
  }

  dhl::Json broadcast(dhl::Socket& socket, const dhl::Json& args) {
    dhl::Target t{std::string(socket.nsp()), {"beta-room"}, {std::string(socket.id())}};
    return host_.emit_to(t, "beta-news", args[0]) == DHL_OK;
  }

 private:
  dhl::Host& host_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace

DHL_PLUGIN(Beta, "beta", "1.0.0", dhl::method<&Beta::ping>("$ping"),
           dhl::method<&Beta::sumLater>("$sumLater"), dhl::method<&Beta::broadcast>("$broadcast"),
           dhl::method<&Beta::notifyUser>("$notifyUser"))
