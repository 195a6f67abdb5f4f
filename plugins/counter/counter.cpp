// The SDK's worked example of the cluster host services (sdk/README.md):
// one counter shared by every node, the same code on one node and on three.
//
//   $counter.add {by} -> {value}   adds to the counter; everybody gets
//                                  `counter {value}` (a broadcast crosses the
//                                  cluster through the adapter by itself)
//   $counter.nodes -> {nodes}      how many nodes answered: a node message
//                                  with gathered answers
//
// Clustered, the value lives in Redis (one Lua script: atomic across nodes);
// on one node, in memory. Node joins and leaves are logged.
#include <daheim/plugin.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace counter {

constexpr std::string_view kAdd = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

class Counter {
 public:
  explicit Counter(dhl::Host& host)
      : host_(host),
        events_(
            host,
            [this](bool joined, std::string_view id) {
              host_.info(std::string(joined ? "node joined: " : "node left: ") + std::string(id));
            }),
        messages_(host,
                  [this](std::string_view event, const dhl::Json&) -> std::optional<dhl::Json> {
                    if (event == "hello") return dhl::Json(std::string(host_.node_id()));
                    return std::nullopt;
                  }) {}

  // $counter.add {by} -> {value}; everybody gets `counter {value}`.
  dhl::Future add(dhl::Socket&, const dhl::Json& args) {
    const dhl::Json& by = args[0]["by"];
    if (!by.is_int()) throw dhl::Error("badRequest");
    auto p = std::make_shared<dhl::Promise>();
    dhl::Future f = p->future();
    if (!host_.clustered()) {
      publish(local_ += by.as_int(), *p);
      return f;
    }
    int rc = host_.redis_script(kAdd, {"counter:value"}, {std::to_string(by.as_int())},
                                [this, p](int status, const dhl::RedisReply& r) {
                                  if (status != DHL_OK) return p->reject("unavailable");
                                  publish(r.integer, *p);
                                });
    if (rc != DHL_OK) p->reject("unavailable");
    return f;
  }

  // $counter.nodes -> {nodes}: this node and every other that answered.
  dhl::Future nodes(dhl::Socket&, const dhl::Json&) {
    auto p = std::make_shared<dhl::Promise>();
    dhl::Future f = p->future();
    int rc = host_.node_emit_with_answers(
        "hello", dhl::Json::array(), std::chrono::seconds(2),
        [p](bool, std::vector<dhl::Json> answers) {
          p->resolve(dhl::Json::object({{"nodes", 1 + static_cast<int64_t>(answers.size())}}));
        });
    if (rc != DHL_OK) p->resolve(dhl::Json::object({{"nodes", 1}}));
    return f;
  }

 private:
  void publish(int64_t value, dhl::Promise& p) {
    host_.emit_to(dhl::Target{"/", {}, {}}, "counter", dhl::Json::object({{"value", value}}));
    p.resolve(dhl::Json::object({{"value", value}}));
  }

  dhl::Host& host_;
  int64_t local_ = 0;
  dhl::NodeEvents events_;
  dhl::NodeMessages messages_;
};

}  // namespace counter

DHL_PLUGIN(counter::Counter, "counter", "1.0.0",
           dhl::method<&counter::Counter::add>("$counter.add"),
           dhl::method<&counter::Counter::nodes>("$counter.nodes"))
