// Unit test of the example plugin with the SDK's fake host (no server).
#include <daheim/testing/fake_host.hpp>

#include <cstdio>

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                               \
    }                                                                         \
  } while (0)

int main() {
  dhl::testing::FakeHost host(dhl_plugin_v1(), R"({"greeting":"Hi"})");
  CHECK(host.ok());
  auto& socket = host.connect();
  CHECK(socket.received.at(0).event == "welcome");
  CHECK(socket.received.at(0).args[0].as_string() == "Hi");

  auto r = host.call(socket, "greet", dhl::Json::array({"Ada"}));
  CHECK(r->value()["text"].as_string() == "Hi, Ada!");
  CHECK(r->value()["count"].as_int() == 1);
  CHECK(host.call(socket, "greet")->error() == "nameRequired");

  auto square = host.call_and_wait(socket, "slowSquare", dhl::Json::array({12}));
  CHECK(square->value().as_int() == 144);
  std::puts("example: all checks passed");
  return 0;
}
