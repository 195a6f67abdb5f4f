// The SDK's fake host running the real plugins (alpha, beta, conformance)
// in-process: how a plugin author unit-tests a plugin without a server.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <daheim/testing/fake_host.hpp>

#include <memory>
#include <string>

#include "plugin_test_util.hpp"

namespace daheim::testing {
namespace {

using dhl::Json;
using dhl::testing::FakeHost;
using dhl::testing::FakeSocket;

// dlopen()s a built plugin and returns its descriptor.
class Loaded {
 public:
  explicit Loaded(const std::string& path) : handle_(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {}
  ~Loaded() {
    if (handle_) dlclose(handle_);
  }
  const dhl_plugin_desc* desc() const {
    auto entry = reinterpret_cast<dhl_entry_fn>(dlsym(handle_, DHL_ENTRY_SYMBOL));
    return entry ? entry() : nullptr;
  }

 private:
  void* handle_;
};

TEST(FakeHost, RunsAPluginWithoutAServer) {
  Loaded lib(built_plugin("test/alpha.so"));
  ASSERT_NE(lib.desc(), nullptr);
  FakeHost host(lib.desc(), R"({"workers":1})");
  ASSERT_TRUE(host.ok());
  FakeSocket& s = host.connect();
  ASSERT_EQ(s.received.size(), 1u);
  EXPECT_EQ(s.received[0].event, "welcome");
  EXPECT_EQ(s.received[0].args[0]["id"].as_string(), s.id);

  EXPECT_EQ(host.call(s, "add", Json::array({2, 3}))->value().as_int(), 5);
  EXPECT_EQ(host.call(s, "add", Json::array({"x"}))->error(), "badRequest");
  EXPECT_EQ(host.call(s, "crash")->error(), "internalServerError");
  EXPECT_EQ(host.call(s, "nope")->error(), "unhandled");
  auto nothing = host.call(s, "nothing");
  EXPECT_TRUE(nothing->answered && nothing->nothing);

  auto slow = host.call(s, "slow", Json::array({10, "done"}));
  EXPECT_FALSE(slow->answered);
  EXPECT_TRUE(host.run_until([&] { return slow->answered; }));
  EXPECT_EQ(slow->value().as_string(), "done");
  EXPECT_EQ(host.call_and_wait(s, "slowFail", Json::array({"tooLate"}))->error(), "tooLate");
}

TEST(FakeHost, MessagesBetweenPlugins) {
  Loaded lib(fixture("calls_first"));
  ASSERT_NE(lib.desc(), nullptr);
  FakeHost host(lib.desc());
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host.message("other", "hello", Json::object({{"n", 4}})), 4);
  FakeSocket& s = host.connect();
  host.message_answer = 9;
  EXPECT_EQ(host.call(s, "first.tell", Json::array({"webpush", "send", Json::object({{"u", 1}})}))
                ->value()
                .as_int(),
            9);
  ASSERT_EQ(host.sent_messages.size(), 1u);
  EXPECT_EQ(host.sent_messages[0].plugin, "webpush");
  EXPECT_EQ(host.sent_messages[0].topic, "send");
  EXPECT_EQ(host.sent_messages[0].data.dump(), R"({"u":1})");
  Loaded alpha(built_plugin("test/alpha.so"));
  FakeHost none(alpha.desc(), R"({"workers":1})");
  EXPECT_EQ(none.message("x", "y", Json()), DHL_ERR_NOTFOUND);  // takes no messages
}

TEST(FakeHost, TimersPostsAndServerAcks) {
  Loaded lib(built_plugin("test/alpha.so"));
  FakeHost host(lib.desc());
  FakeSocket& s = host.connect();
  s.received.clear();
  EXPECT_EQ(host.call(s, "timer", Json::array({100}))->value().as_int(), 0);
  host.advance(std::chrono::milliseconds(99));
  EXPECT_TRUE(s.received.empty());
  host.advance(std::chrono::milliseconds(1));
  ASSERT_EQ(s.received.size(), 1u);
  EXPECT_EQ(s.received[0].event, "tick");

  auto posted = host.call_and_wait(s, "postEmit", Json::array({"poke"}));
  EXPECT_TRUE(posted->value().as_bool());
  EXPECT_EQ(s.received.back().event, "poke");

  auto asked = host.call(s, "ask", Json::array({"2+2?"}));
  ASSERT_EQ(s.acks.size(), 1u);
  host.answer_ack(s, 0, Json::array({4}));
  EXPECT_EQ(asked->value()["answer"][0].as_int(), 4);
}

TEST(FakeHost, ConformancePluginForwardsArgumentsAsIs) {
  Loaded lib(built_plugin("conformance/conformance.so"));
  FakeHost host(lib.desc());
  FakeSocket in;
  in.auth = R"({"token":"abc"})";
  FakeSocket& s = host.connect(in);
  ASSERT_EQ(s.received.size(), 1u);
  EXPECT_EQ(s.received[0].event, "auth");
  EXPECT_EQ(s.received[0].args.dump(), R"([{"token":"abc"}])");
  Json args = Json::array({1, "2", Json::binary(std::vector<uint8_t>{3})});
  host.call(s, "message", args, false);
  EXPECT_EQ(s.received.back().event, "message-back");
  EXPECT_EQ(s.received.back().args, args);
  EXPECT_EQ(host.call(s, "message-with-ack", args)->args, args);
}

TEST(FakeHost, TwoPluginsStyleDeferredReplyFromAThread) {
  Loaded lib(built_plugin("test/beta.so"));
  FakeHost host(lib.desc());
  FakeSocket& s = host.connect();
  EXPECT_TRUE(s.rooms.count("beta-room"));
  EXPECT_EQ(host.call_and_wait(s, "sumLater", Json::array({2, 40, 5}))->value().as_int(), 42);
  host.disconnect(s);
  EXPECT_EQ(s.disconnect_reason, "client namespace disconnect");
}

// The fake host refuses a handle kept past its socket's disconnect as the
// server does (DHL_ERR_GONE), so a plugin's unit test catches the bug.
TEST(FakeHost, AHandleKeptPastDisconnectIsRefused) {
  Loaded lib(built_plugin("test/alpha.so"));
  FakeHost host(lib.desc(), R"({"workers":1})");
  FakeSocket& gone = host.connect();
  EXPECT_TRUE(host.call(gone, "keep")->value().as_bool());
  EXPECT_EQ(host.stale_handle_uses(), 0u);
  host.disconnect(gone);
  FakeSocket& other = host.connect();
  std::size_t before = other.received.size();
  Json used = host.call(other, "useKept")->value();
  EXPECT_EQ(used.dump(), R"({"id":null,"data":false,"emit":-2,"join":-2,"disconnect":-2})");
  EXPECT_EQ(host.stale_handle_uses(), 5u);
  EXPECT_EQ(other.received.size(), before);  // nothing reached another socket
  EXPECT_TRUE(other.connected);
  EXPECT_TRUE(gone.received.empty() || gone.received.back().event != "kept");
  ASSERT_FALSE(host.logs.empty());
  EXPECT_NE(host.logs.back().find("disconnect with the handle of a socket that has left"),
            std::string::npos);

  // While connected the same handle works, from a later call too (its
  // disconnect ends the socket, so that call's answer is dropped).
  EXPECT_TRUE(host.call(other, "keep")->value().as_bool());
  EXPECT_FALSE(host.call(other, "useKept")->answered);
  EXPECT_EQ(other.received.back().event, "kept");
  EXPECT_TRUE(other.rooms.empty());
  EXPECT_EQ(other.disconnect_reason, "server namespace disconnect");
  EXPECT_EQ(host.stale_handle_uses(), 5u);
}

}  // namespace
}  // namespace daheim::testing
