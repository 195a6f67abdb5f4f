// The admin UI's JSON, byte for byte.
#include "admin/wire.hpp"

#include <gtest/gtest.h>

namespace daheim::admin {
namespace {

TEST(AdminWire, IsoDateAsJavaScriptWritesIt) {
  EXPECT_EQ(iso_date(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_date(1796619626123), "2026-12-07T05:00:26.123Z");
}

TEST(AdminWire, ConfigFeatures) {
  EXPECT_EQ(config_json(false, false),
            R"({"supportedFeatures":["EMIT","JOIN","LEAVE","DISCONNECT","MJOIN","MLEAVE",)"
            R"("MDISCONNECT","AGGREGATED_EVENTS"]})");
  EXPECT_EQ(config_json(true, true), R"({"supportedFeatures":["AGGREGATED_EVENTS","ALL_EVENTS"]})");
}

TEST(AdminWire, ServerStats) {
  ServerStats s;
  s.server_id = "node-a";
  s.hostname = "host";
  s.pid = 42;
  s.uptime = 12.5;
  s.clients = 3;
  s.polling_clients = 1;
  s.events = {{1796619626000, "rawConnection", "", 2},
              {1796619626000, "rawDisconnection", "transport close", 1}};
  s.namespaces = {{"/", 2}, {"/admin", 1}};
  EXPECT_EQ(server_stats_json(s),
            R"({"serverId":"node-a","hostname":"host","pid":42,"uptime":12.500,"clientsCount":3,)"
            R"("pollingClientsCount":1,"aggregatedEvents":[{"timestamp":1796619626000,)"
            R"("type":"rawConnection","count":2},{"timestamp":1796619626000,)"
            R"("type":"rawDisconnection","subType":"transport close","count":1}],)"
            R"("namespaces":[{"name":"/","socketsCount":2},{"name":"/admin","socketsCount":1}]})");
}

TEST(AdminWire, DataWithAdmin) {
  EXPECT_EQ(data_with_admin("{}", "0123456789abcdefXYZ", "polling"),
            R"({"_admin":{"clientId":"0123456789ab","transport":"polling"}})");
  EXPECT_EQ(data_with_admin(R"({"a":1})", "abc", "websocket"),
            R"({"_admin":{"clientId":"abc","transport":"websocket"},"a":1})");
}

TEST(AdminWire, WithoutAuth) {
  EXPECT_EQ(without_auth(R"({"url":"/x","auth":{"username":"ops","password":"p"}})"),
            R"({"url":"/x","auth":{}})");
  EXPECT_EQ(without_auth("nonsense"), "{}");
}

TEST(AdminWire, EventWithName) {
  EXPECT_EQ(event_with_name("hello", R"([1,{"a":2}])"), R"(["hello",1,{"a":2}])");
  EXPECT_EQ(event_with_name("ping", "[]"), R"(["ping"])");
  EXPECT_EQ(event_with_name("ping", ""), R"(["ping"])");
}

TEST(AdminWire, SerializedSocketHidesAdminDataAuthAndTokens) {
  socketio::RemoteSocket r;
  r.id = "sockid";
  r.rooms = {"sockid", "room1"};
  r.data_json = R"({"_admin":{"clientId":"abcdefabcdef","transport":"websocket"},"x":1})";
  r.handshake_json =
      R"({"headers":{"host":"h","authorization":"Bearer t","x-forwarded-for":"9.9.9.9"},)"
      R"("time":"Mon Dec 07 2026","address":"127.0.0.1","xdomain":false,"secure":false,)"
      R"("issued":1796619626123,"url":"/socket.io/?EIO=4&access_token=tok&transport=websocket",)"
      R"("query":{"EIO":"4","access_token":"tok","transport":"websocket"},"auth":{"token":"t"}})";
  EXPECT_EQ(serialize_socket(r, "/"),
            R"({"id":"sockid","clientId":"abcdefabcdef","transport":"websocket","nsp":"/",)"
            R"("data":{"x":1},"handshake":{"address":"9.9.9.9","headers":{"host":"h",)"
            R"("authorization":"[redacted]","x-forwarded-for":"9.9.9.9"},"query":{"EIO":"4",)"
            R"("access_token":"[redacted]","transport":"websocket"},"issued":1796619626123,)"
            R"("secure":false,"time":"Mon Dec 07 2026","url":)"
            R"("/socket.io/?EIO=4&access_token=[redacted]&transport=websocket","xdomain":false},)"
            R"("rooms":["sockid","room1"]})");
}

}  // namespace
}  // namespace daheim::admin
