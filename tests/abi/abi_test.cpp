// ABI stability: a C plugin compiled against the frozen ABI 1.0 header
// (tests/abi/v1) loads into today's host and every call it makes works; the
// frozen structs are a prefix of today's (members are only appended).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "daheim/plugin.h"
#include "frozen_layout.h"
#include "harness.hpp"
#include "plugin/host.hpp"
#include "plugin_test_util.hpp"

namespace daheim::testing {
namespace {

using ::testing::HasSubstr;
using Frames = std::vector<std::string>;

#define OFF(type, member) offsetof(type, member)

TEST(AbiLayout, FrozenStructsArePrefixesOfTodays) {
  const std::size_t host[] = {
      OFF(dhl_host, struct_size),
      OFF(dhl_host, abi_major),
      OFF(dhl_host, abi_minor),
      OFF(dhl_host, log),
      OFF(dhl_host, config),
      OFF(dhl_host, socket_info),
      OFF(dhl_host, socket_header),
      OFF(dhl_host, socket_query),
      OFF(dhl_host, socket_header_at),
      OFF(dhl_host, socket_query_at),
      OFF(dhl_host, socket_data),
      OFF(dhl_host, socket_set_data),
      OFF(dhl_host, socket_find),
      OFF(dhl_host, emit),
      OFF(dhl_host, emit_with_ack),
      OFF(dhl_host, emit_to),
      OFF(dhl_host, emit_to_with_ack),
      OFF(dhl_host, emit_to_user),
      OFF(dhl_host, join),
      OFF(dhl_host, leave),
      OFF(dhl_host, disconnect),
      OFF(dhl_host, reply),
      OFF(dhl_host, reply_error),
      OFF(dhl_host, call_defer),
      OFF(dhl_host, call_wants_ack),
      OFF(dhl_host, post),
      OFF(dhl_host, timer_create),
      OFF(dhl_host, timer_arm),
      OFF(dhl_host, timer_disarm),
      OFF(dhl_host, timer_destroy),
      OFF(dhl_host, now_ms),
  };
  ASSERT_EQ(dhl_frozen_host_count, std::size(host));
  for (std::size_t i = 0; i < dhl_frozen_host_count; ++i)
    EXPECT_EQ(dhl_frozen_host_offsets[i], host[i]) << "dhl_host member #" << i;
  EXPECT_GE(sizeof(dhl_host), dhl_frozen_host_size);

  const std::size_t desc[] = {
      OFF(dhl_plugin_desc, struct_size),   OFF(dhl_plugin_desc, abi_major),
      OFF(dhl_plugin_desc, abi_minor),     OFF(dhl_plugin_desc, name),
      OFF(dhl_plugin_desc, version),       OFF(dhl_plugin_desc, init),
      OFF(dhl_plugin_desc, shutdown),      OFF(dhl_plugin_desc, on_connect),
      OFF(dhl_plugin_desc, on_disconnect), OFF(dhl_plugin_desc, methods),
      OFF(dhl_plugin_desc, method_count),
  };
  ASSERT_EQ(dhl_frozen_desc_count, std::size(desc));
  for (std::size_t i = 0; i < dhl_frozen_desc_count; ++i)
    EXPECT_EQ(dhl_frozen_desc_offsets[i], desc[i]) << "dhl_plugin_desc member #" << i;
  EXPECT_GE(sizeof(dhl_plugin_desc), dhl_frozen_desc_size);
  // Structs passed by value or in arrays cannot grow at all.
  EXPECT_EQ(sizeof(dhl_payload), dhl_frozen_payload_size);
  EXPECT_EQ(sizeof(dhl_target), dhl_frozen_target_size);
  EXPECT_EQ(sizeof(dhl_str), dhl_frozen_str_size);
  EXPECT_EQ(sizeof(dhl_method), dhl_frozen_method_size);
}

class AbiV1Plugin : public ::testing::Test {
 protected:
  void SetUp() override {
    StderrCapture err;
    ASSERT_EQ(host.load({{ABI_V1_PLUGIN, R"({"frozen":true})"}}), "");
    EXPECT_THAT(err.take(), HasSubstr("abi-v1 init, config {\"frozen\":true}"));
    host.install(h.server.of("/"));
  }

  Harness h;
  ManualInbox inbox;
  plugin::Host host{h.server, inbox};
};

TEST_F(AbiV1Plugin, ServesEveryKindOfCall) {
  auto p = h.open();
  p->send("40");
  Frames hello = p->take();
  ASSERT_EQ(hello.size(), 2u);  // CONNECT, then abi-hello
  std::string id(Harness::socket_of(*p).id());
  EXPECT_EQ(hello[1], R"(42["abi-hello",")" + id + R"("])");

  p->send(R"(421["abi.echo",{"a":[1,2]},"x"])");
  p->send(R"(422["abi.count"])");
  p->send(R"(423["abi.count"])");
  p->send(R"(424["abi.error"])");
  p->send(R"(425["abi.timer"])");
  EXPECT_EQ(p->take(), (Frames{R"(431[{"a":[1,2]},"x"])", "432[1]", "433[2]",
                               R"(434[{"error":"abiError"}])", "435[true]"}));
  h.timers.advance(loop::Millis(20));
  EXPECT_EQ(p->take(), Frames{R"(42["abi-tick","tick"])"});

  p->send(R"(426["abi.later"])");
  Frames got;
  inbox.run_until([&] {
    for (auto& f : p->take()) got.push_back(f);
    return !got.empty();
  });
  EXPECT_EQ(got, Frames{R"(436["later"])"});
}

TEST_F(AbiV1Plugin, ShutsDownCleanly) {
  auto p = h.open();
  p->send("40");
  p->send(R"(421["abi.later"])");
  StderrCapture err;
  host.shutdown();
  EXPECT_THAT(err.take(), HasSubstr("abi-v1 shutdown"));
}

}  // namespace
}  // namespace daheim::testing
