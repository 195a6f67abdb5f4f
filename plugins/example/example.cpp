// An example plugin: greets sockets, keeps a per-socket counter, answers
// "$greet" now and "$slowSquare" later from a worker thread.
#include <daheim/plugin.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace {

class Example {
 public:
  // Created for each socket before onConnect, destroyed after onDisconnect.
  struct SocketState {
    int greetings = 0;
  };

  explicit Example(dhl::Host& host)
      : host_(host), greeting_(host.config()["greeting"].as_string("Hello")), pool_(host, 2) {
    host_.info("ready, greeting \"" + greeting_ + "\"");
  }

  void onConnect(dhl::Socket& socket) { socket.emit("welcome", greeting_); }

  // greet(name) -> {"text": "<greeting>, <name>!", "count": n}
  dhl::Json greet(dhl::Socket& socket, const dhl::Json& args) {
    if (!args[0].is_string()) throw dhl::Error("nameRequired");
    int count = ++socket.state<SocketState>().greetings;
    return dhl::Json::object(
        {{"text", greeting_ + ", " + std::string(args[0].as_string()) + "!"}, {"count", count}});
  }

  // slowSquare(n) -> n * n, computed on a worker thread.
  dhl::Future slowSquare(dhl::Socket&, const dhl::Json& args) {
    int64_t n = args[0].as_int();
    return pool_.async([n] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return n * n;
    });
  }

 private:
  dhl::Host& host_;
  std::string greeting_;
  dhl::WorkerPool pool_;  // last: its threads stop before the rest goes
};

}  // namespace

DHL_PLUGIN(Example, "example", "1.0.0", dhl::method<&Example::greet>("$greet"),
           dhl::method<&Example::slowSquare>("$slowSquare"))
