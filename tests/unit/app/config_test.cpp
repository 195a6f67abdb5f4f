#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

#include <unistd.h>

#include "app/cli.hpp"
#include "app/config.hpp"

namespace daheim::app {
namespace {

class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text) {
    char name[] = "/tmp/daheim-config-XXXXXX";
    int fd = mkstemp(name);
    close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~ConfigFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ConfigError load_error(const std::string& text) {
  ConfigFile f(text);
  Config c = default_config();
  ConfigError e;
  EXPECT_FALSE(load_config(f.path(), c, e));
  EXPECT_EQ(e.file, f.path());
  return e;
}

TEST(Config, DefaultsAreTheReferenceLimits) {
  Config c = default_config();
  EXPECT_EQ(c.server.listeners.at(0).host, "127.0.0.1");
  EXPECT_EQ(c.server.listeners.at(0).port, 3000);
  EXPECT_EQ(c.endpoint.path, "/socket.io/");
  EXPECT_EQ(c.endpoint.eio.ping_interval.count(), 25000);
  EXPECT_EQ(c.endpoint.eio.ping_timeout.count(), 20000);
  EXPECT_EQ(c.endpoint.eio.upgrade_timeout.count(), 10000);
  EXPECT_EQ(c.endpoint.eio.max_payload, 1000000u);
  EXPECT_GE(c.server.max_header, 8192u);
  EXPECT_FALSE(c.endpoint.cors.enabled);
}

TEST(Config, ReadsKeysAndAllowsComments) {
  ConfigFile f(R"(// test
    { "listen": "[::1]:0", /* inline */ "log": {"level": "debug"},
      "engineio": { "path": "/engine.io", "pingInterval": 300, "pingTimeout": 200,
                    "transports": ["websocket"],
                    "cors": {"origin": ["https://a.example"], "credentials": true} },
      "testHandler": "engineio-echo" })");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_EQ(c.server.listeners.at(0).host, "::1");
  EXPECT_EQ(c.server.listeners.at(0).port, 0);
  EXPECT_EQ(c.log_level, log::Level::Debug);
  EXPECT_EQ(c.endpoint.path, "/engine.io/");
  EXPECT_EQ(c.endpoint.eio.ping_interval.count(), 300);
  EXPECT_FALSE(c.endpoint.eio.allow_polling);
  EXPECT_TRUE(c.endpoint.eio.allow_websocket);
  EXPECT_TRUE(c.endpoint.cors.enabled);
  EXPECT_FALSE(c.endpoint.cors.any_origin);
  ASSERT_EQ(c.endpoint.cors.origins.size(), 1u);
  EXPECT_TRUE(c.endpoint.cors.credentials);
  EXPECT_EQ(c.test_handler, "engineio-echo");
}

TEST(Config, UnknownKeyIsNamedWithItsPath) {
  ConfigError e = load_error(R"({"engineio": {"pingIntervall": 3}})");
  EXPECT_EQ(e.key, "engineio.pingIntervall");
  EXPECT_EQ(e.message, "unknown key");
  EXPECT_EQ(e.to_string(), "config error: " + e.file + ": key engineio.pingIntervall: unknown key");
}

TEST(Config, HandshakeHeadersKeepAllButTheWebSocketHandshakesOwnByDefault) {
  using Mode = engineio::HeaderFilter::Mode;
  const engineio::HeaderFilter& d = default_config().endpoint.handshake_headers;
  EXPECT_EQ(d.mode, Mode::AllButWebSocket);
  EXPECT_TRUE(d.keeps("user-agent"));
  EXPECT_TRUE(d.keeps("authorization"));
  EXPECT_FALSE(d.keeps("sec-websocket-key"));
  EXPECT_FALSE(d.keeps("upgrade"));

  auto load = [](const std::string& value) {
    ConfigFile f(R"({"engineio": {"handshakeHeaders": )" + value + "}}");
    Config c = default_config();
    ConfigError e;
    EXPECT_TRUE(load_config(f.path(), c, e)) << e.to_string();
    return c.endpoint.handshake_headers;
  };
  engineio::HeaderFilter all = load(R"("all")");
  EXPECT_EQ(all.mode, Mode::All);
  EXPECT_TRUE(all.keeps("sec-websocket-key"));
  EXPECT_EQ(load(R"("all-but-websocket")").mode, Mode::AllButWebSocket);
  engineio::HeaderFilter listed = load(R"(["user-agent", "x-forwarded-for"])");
  EXPECT_EQ(listed.mode, Mode::Listed);
  EXPECT_TRUE(listed.keeps("user-agent"));
  EXPECT_TRUE(listed.keeps("x-forwarded-for"));
  EXPECT_TRUE(listed.keeps("origin"));  // handshake.xdomain
  EXPECT_FALSE(listed.keeps("cookie"));
  EXPECT_FALSE(listed.keeps("host"));
  EXPECT_FALSE(load("[]").keeps("host"));
}

TEST(Config, HandshakeHeadersRefuseWhatIsNotANameOrAMode) {
  for (const char* bad : {R"("some")", "true", "3", R"(["User-Agent"])", R"([""])",
                          R"(["user agent"])", R"([1])", R"({"keep": []})"}) {
    ConfigError e = load_error(std::string(R"({"engineio": {"handshakeHeaders": )") + bad + "}}");
    EXPECT_EQ(e.key, "engineio.handshakeHeaders") << bad;
    EXPECT_NE(e.message.find("header names"), std::string::npos) << bad << ": " << e.message;
  }
}

TEST(Config, MistypedValuesAreNamed) {
  EXPECT_EQ(load_error(R"({"engineio": {"pingInterval": "300"}})").key, "engineio.pingInterval");
  EXPECT_EQ(load_error(R"({"engineio": {"maxPayload": 0}})").key, "engineio.maxPayload");
  EXPECT_EQ(load_error(R"({"engineio": {"pingTimeout": 1.5}})").key, "engineio.pingTimeout");
  EXPECT_EQ(load_error(R"({"engineio": {"transports": ["carrier-pigeon"]}})").key,
            "engineio.transports");
  EXPECT_EQ(load_error(R"({"engineio": {"cors": {"origin": 5}}})").key, "engineio.cors.origin");
  EXPECT_EQ(load_error(R"({"listen": "nowhere"})").key, "listen");
  EXPECT_EQ(load_error(R"({"log": {"level": "loud"}})").key, "log.level");
  EXPECT_EQ(load_error(R"({"testHandler": "magic"})").key, "testHandler");
  EXPECT_EQ(load_error(R"({"engineio": []})").key, "engineio");
}

TEST(Config, PluginHostCapsPendingCallsPerSocket) {
  EXPECT_EQ(default_config().plugins.host.max_pending_calls, 16384u);
  ConfigFile f(R"({"pluginHost": {"maxPendingCallsPerSocket": 4}})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_EQ(c.plugins.host.max_pending_calls, 4u);
}

// Issue 17: the server-wide outgoing budget and the per-user CONNECT rate.
TEST(Config, OutgoingBudgetAndConnectRate) {
  Config d = default_config();
  EXPECT_EQ(d.endpoint.max_buffered_total, 268435456u);
  EXPECT_EQ(d.auth.connects_per_second_per_user, 10);
  EXPECT_EQ(d.auth.connect_burst_per_user, 100);
  ConfigFile f(R"({"engineio": {"maxBufferedBytesTotal": 0},
      "auth": {"devSecret": "0123456789abcdef0123456789abcdef",
               "connectsPerSecondPerUser": 3, "connectBurstPerUser": 7}})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_EQ(c.endpoint.max_buffered_total, 0u);
  EXPECT_EQ(c.auth.connects_per_second_per_user, 3);
  EXPECT_EQ(c.auth.connect_burst_per_user, 7);
  EXPECT_EQ(load_error(R"({"engineio": {"maxBufferedBytesTotal": -1}})").key,
            "engineio.maxBufferedBytesTotal");
}

// A session counts what it has queued in 32 bits: maxBufferedBytes above
// 4 GiB - 1 is refused (it was accepted up to 1 TiB before).
TEST(Config, MaxBufferedBytesFitsTheSessionsCounter) {
  ConfigFile f(R"({"engineio": {"maxBufferedBytes": 4294967295}})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_EQ(c.endpoint.eio.max_buffered_bytes, 4294967295u);
  EXPECT_EQ(load_error(R"({"engineio": {"maxBufferedBytes": 4294967296}})").key,
            "engineio.maxBufferedBytes");
  EXPECT_EQ(load_error(R"({"engineio": {"maxBufferedBytes": 1099511627776}})").key,
            "engineio.maxBufferedBytes");
  EXPECT_EQ(load_error(R"({"auth": {"connectBurstPerUser": 0}})").key, "auth.connectBurstPerUser");
  EXPECT_EQ(load_error(R"({"auth": {"connectsPerSecondPerUser": "fast"}})").key,
            "auth.connectsPerSecondPerUser");
}

TEST(Config, HandshakeBudget) {
  Config d = default_config();
  EXPECT_EQ(d.endpoint.handshakes.per_second, 2000u);
  EXPECT_EQ(d.endpoint.handshakes.burst, 2000u);
  EXPECT_EQ(d.endpoint.handshakes.max_waiting, 20000u);
  EXPECT_EQ(d.endpoint.handshakes.max_wait, std::chrono::milliseconds(10000));
  EXPECT_EQ(d.server.max_accepts_per_turn, 256u);
  ConfigFile f(R"({"engineio": {"handshakesPerSecond": 50, "handshakeBurst": 5,
      "maxHandshakesWaiting": 0, "maxHandshakeWait": 0, "maxAcceptsPerTurn": 0}})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_EQ(c.endpoint.handshakes.per_second, 50u);
  EXPECT_EQ(c.endpoint.handshakes.burst, 5u);
  EXPECT_EQ(c.endpoint.handshakes.max_waiting, 0u);
  EXPECT_EQ(c.endpoint.handshakes.max_wait, std::chrono::milliseconds(0));
  EXPECT_EQ(c.server.max_accepts_per_turn, 0u);
  EXPECT_EQ(load_error(R"({"engineio": {"handshakesPerSecond": -1}})").key,
            "engineio.handshakesPerSecond");
  EXPECT_EQ(load_error(R"({"engineio": {"handshakeBurst": 0}})").key, "engineio.handshakeBurst");
  EXPECT_EQ(load_error(R"({"engineio": {"maxHandshakeWait": "long"}})").key,
            "engineio.maxHandshakeWait");
}

TEST(Config, PollingHttp) {
  Config d = default_config();
  EXPECT_TRUE(d.server.own_polling_http);
  EXPECT_EQ(d.server.http1.idle_timeout, std::chrono::milliseconds(60000));
  EXPECT_EQ(d.server.http1.request_timeout, std::chrono::milliseconds(30000));
  ConfigFile f(R"({"engineio": {"pollingHttp": "lws", "httpIdleTimeout": 1500,
      "httpRequestTimeout": 700, "maxPayload": 5000, "maxHttpHeaderSize": 8192}})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_FALSE(c.server.own_polling_http);
  EXPECT_EQ(c.server.http1.idle_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.server.http1.request_timeout, std::chrono::milliseconds(700));
  EXPECT_EQ(c.server.http1.max_body, 5000u);
  EXPECT_EQ(c.server.http1.max_header, 8192u);
  ConfigError bad = load_error(R"({"engineio": {"pollingHttp": "nginx"}})");
  EXPECT_EQ(bad.key, "engineio.pollingHttp");
  EXPECT_EQ(bad.to_string(),
            "config error: " + bad.file + R"(: key engineio.pollingHttp: expected "lws" or "own")");
  EXPECT_EQ(load_error(R"({"engineio": {"httpIdleTimeout": 0}})").key, "engineio.httpIdleTimeout");
  EXPECT_EQ(load_error(R"({"engineio": {"httpRequestTimeout": "slow"}})").key,
            "engineio.httpRequestTimeout");
}

TEST(Config, RefusalLingerAndReadBudget) {
  Config d = default_config();
  EXPECT_EQ(d.server.refusal.linger, std::chrono::milliseconds(2000));
  EXPECT_EQ(d.server.refusal.max_read_bytes, 65536u);
  EXPECT_EQ(d.server.refusal.max_sockets, 1024u);
  ConfigFile f(
      R"({"engineio": {"refusalLingerTime": 250, "refusalReadBytes": 0, "refusalMaxSockets": 0}})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_EQ(c.server.refusal.linger, std::chrono::milliseconds(250));
  EXPECT_EQ(c.server.refusal.max_read_bytes, 0u);
  EXPECT_EQ(c.server.refusal.max_sockets, 0u);
  const std::pair<const char*, const char*> bad[] = {
      {R"({"engineio": {"refusalLingerTime": 0}})",
       "engineio.refusalLingerTime: expected an integer from 1 to 2147483647"},
      {R"({"engineio": {"refusalLingerTime": "2s"}})",
       "engineio.refusalLingerTime: expected an integer from 1 to 2147483647"},
      {R"({"engineio": {"refusalReadBytes": -1}})",
       "engineio.refusalReadBytes: expected an integer from 0 to 1073741824"},
      {R"({"engineio": {"refusalReadBytes": 1.5}})",
       "engineio.refusalReadBytes: expected an integer from 0 to 1073741824"},
      {R"({"engineio": {"refusalMaxSockets": 1048577}})",
       "engineio.refusalMaxSockets: expected an integer from 0 to 1048576"},
  };
  for (const auto& [text, message] : bad) {
    ConfigError err = load_error(text);
    EXPECT_EQ(err.to_string(), "config error: " + err.file + ": key " + message) << text;
  }
}

TEST(Config, DrainPollingGrace) {
  EXPECT_EQ(default_config().server.drain_polling_grace, std::chrono::milliseconds(1000));
  ConfigFile f(R"({"drainTime": 8000, "drainPollingGrace": 0})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_EQ(c.server.drain_time, std::chrono::milliseconds(8000));
  EXPECT_EQ(c.server.drain_polling_grace, std::chrono::milliseconds(0));
  for (const char* bad : {"-1", "1.5", "\"1s\"", "null"}) {
    ConfigError err = load_error(std::string(R"({"drainPollingGrace": )") + bad + "}");
    EXPECT_EQ(err.key, "drainPollingGrace") << bad;
    EXPECT_EQ(err.to_string().rfind("config error: " + err.file + ": key drainPollingGrace: ", 0),
              0u)
        << err.to_string();
  }
}

TEST(Config, BadPendingCallCapsAreNamed) {
  const std::string key = "pluginHost.maxPendingCallsPerSocket";
  for (const char* bad : {"0", "-1", "1.5", "\"16\"", "true", "null", "1048577"}) {
    ConfigError e =
        load_error(std::string(R"({"pluginHost": {"maxPendingCallsPerSocket": )") + bad + "}}");
    EXPECT_EQ(e.to_string(), "config error: " + e.file + ": key " + key +
                                 ": expected an integer from 1 to 1048576")
        << bad;
  }
  EXPECT_EQ(load_error(R"({"pluginHost": {"maxPendingCalls": 0}})").key,
            "pluginHost.maxPendingCalls");
  EXPECT_EQ(load_error(R"({"pluginHost": {"callTimeout": -1}})").key, "pluginHost.callTimeout");
  EXPECT_EQ(load_error(R"({"pluginHost": {"maxPendingCall": 4}})").key,
            "pluginHost.maxPendingCall");
  EXPECT_EQ(load_error(R"({"pluginHost": 4})").key, "pluginHost");
}

// Numbers beyond int64_t are refused like any other out-of-range value (the reader once cast
// them first: undefined behaviour, found by tests/fuzz/config_fuzz).
TEST(Config, HugeNumbersAreOutOfRange) {
  for (const char* bad : {"5.12e108", "-5.12e108", "9.3e18", "1e400"}) {
    ConfigError e = load_error(std::string(R"({"engineio": {"maxPayload": )") + bad + "}}");
    EXPECT_EQ(e.key, "engineio.maxPayload") << bad;
    EXPECT_EQ(e.message, "expected an integer from 1 to 1073741824") << bad;
  }
}

TEST(Config, ConnectionStateRecoveryIsOnWhenPresent) {
  EXPECT_FALSE(default_config().socketio.recovery.enabled);
  ConfigFile f(R"({"socketio": {"connectionStateRecovery": {}}})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  const socketio::RecoveryOptions& r = c.socketio.recovery;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.max_disconnection_duration.count(), 120000);
  EXPECT_EQ(r.max_sessions, 100000u);
  EXPECT_EQ(r.max_log_packets, 100000u);
  EXPECT_EQ(r.max_log_bytes, 64u * 1024 * 1024);

  ConfigFile g(R"({"socketio": {"connectionStateRecovery": {"enabled": false,
      "maxDisconnectionDuration": 500, "maxSessions": 7, "maxLogPackets": 8,
      "maxLogBytes": 4096}}})");
  c = default_config();
  ASSERT_TRUE(load_config(g.path(), c, e)) << e.to_string();
  EXPECT_FALSE(c.socketio.recovery.enabled);
  EXPECT_EQ(c.socketio.recovery.max_disconnection_duration.count(), 500);
  EXPECT_EQ(c.socketio.recovery.max_sessions, 7u);
  EXPECT_EQ(c.socketio.recovery.max_log_packets, 8u);
  EXPECT_EQ(c.socketio.recovery.max_log_bytes, 4096u);
}

TEST(Config, BadRecoveryKeysAreNamed) {
  const std::string p = "socketio.connectionStateRecovery";
  EXPECT_EQ(load_error(R"({"socketio": {"connectionStateRecovery": true}})").key, p);
  EXPECT_EQ(
      load_error(R"({"socketio": {"connectionStateRecovery": {"maxDisconnectionDuration": 0}}})")
          .key,
      p + ".maxDisconnectionDuration");
  EXPECT_EQ(load_error(R"({"socketio": {"connectionStateRecovery": {"maxLogPackets": 0}}})").key,
            p + ".maxLogPackets");
  EXPECT_EQ(load_error(R"({"socketio": {"connectionStateRecovery": {"maxLogBytes": 10}}})").key,
            p + ".maxLogBytes");
  EXPECT_EQ(
      load_error(R"({"socketio": {"connectionStateRecovery": {"skipMiddlewares": true}}})").key,
      p + ".skipMiddlewares");
}

TEST(Config, UnreadableOrInvalidFileNamesTheFile) {
  EXPECT_EQ(load_error("{ not json").message, "not valid JSON");
  EXPECT_EQ(load_error("[1, 2]").message, "expected a JSON object");
  Config c = default_config();
  ConfigError e;
  EXPECT_FALSE(load_config("/nonexistent/daheim.json", c, e));
  EXPECT_EQ(e.to_string(), "config error: /nonexistent/daheim.json: cannot read the file");
}

TEST(Config, ParsesListenAddresses) {
  std::string host;
  int port = -1;
  EXPECT_TRUE(parse_listen("0.0.0.0:8080", host, port));
  EXPECT_EQ(host, "0.0.0.0");
  EXPECT_EQ(port, 8080);
  EXPECT_TRUE(parse_listen("[::]:443", host, port));
  EXPECT_EQ(host, "::");
  EXPECT_FALSE(parse_listen("127.0.0.1", host, port));
  EXPECT_FALSE(parse_listen("127.0.0.1:", host, port));
  EXPECT_FALSE(parse_listen(":80", host, port));
  EXPECT_FALSE(parse_listen("h:70000", host, port));
  EXPECT_FALSE(parse_listen("h:8x", host, port));
}

TEST(Config, ListenersReplaceListenAndResolveCertificatesNextToTheFile) {
  ConfigFile cert("cert");  // only read by the TLS code, not by the config
  ConfigFile key("key");
  std::string cert_name = cert.path().substr(cert.path().rfind('/') + 1);
  ConfigFile f(R"({"listeners": [
      {"listen": "0.0.0.0:443", "tls": {"cert": ")" +
               cert_name + R"(", "key": ")" + key.path() +
               R"("}, "serve": ["socketio", "demo"]},
      {"listen": "[::1]:0", "serve": ["metrics", "plugins", "metrics"]},
      {"listen": "127.0.0.1:0"}]})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  const auto& ls = c.server.listeners;
  ASSERT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls[0].host, "0.0.0.0");
  EXPECT_EQ(ls[0].port, 443);
  EXPECT_EQ(ls[0].tls_cert, cert.path());  // relative to the config file's directory
  EXPECT_EQ(ls[0].tls_key, key.path());
  EXPECT_EQ(ls[0].services, transport::kServiceSocketIo | transport::kServiceDemo);
  EXPECT_EQ(ls[1].host, "::1");
  EXPECT_FALSE(ls[1].tls());
  EXPECT_EQ(ls[1].services, transport::kServiceMetrics | transport::kServicePlugins);
  EXPECT_EQ(ls[2].services, transport::kServiceAll);
  EXPECT_EQ(transport::service_names(ls[1].services), "metrics, plugins");
}

TEST(Config, ListenerErrorsNameTheListener) {
  EXPECT_EQ(load_error(R"({"listeners": [{"listen": "127.0.0.1:0", "x": 1}]})").key,
            "listeners[0].x");
  EXPECT_EQ(load_error(R"({"listeners": [{"listen": "127.0.0.1:0"}, {}]})").key,
            "listeners[1].listen");
  ConfigError e = load_error(R"({"listeners": [{"listen": "h:1", "serve": ["ftp"]}]})");
  EXPECT_EQ(e.key, "listeners[0].serve");
  EXPECT_NE(e.message.find("\"admin\""), std::string::npos) << e.message;
  EXPECT_EQ(load_error(R"({"listeners": [{"listen": "h:1", "serve": []}]})").key,
            "listeners[0].serve");
  e = load_error(R"({"listeners": [{"listen": "h:1", "tls": {"cert": "/nonexistent/c.pem"}}]})");
  EXPECT_EQ(e.key, "listeners[0].tls.cert");
  EXPECT_EQ(e.message, "cannot read /nonexistent/c.pem: No such file or directory");
  EXPECT_EQ(load_error(R"({"listeners": [{"listen": "h:1", "tls": {"key": "/k"}}]})").key,
            "listeners[0].tls.cert");
  EXPECT_EQ(load_error(R"({"listeners": []})").key, "listeners");
  EXPECT_EQ(load_error(R"({"listeners": {"listen": "h:1"}})").key, "listeners");
  EXPECT_EQ(load_error(R"({"listen": "h:1", "listeners": [{"listen": "h:2"}]})").key, "listeners");
  EXPECT_EQ(load_error(R"({"listeners": [{"listen": "h:2"}, {"listen": "h:2"}]})").key,
            "listeners[1].listen");
}

TEST(Config, ClusterIsOffUnlessConfigured) {
  EXPECT_FALSE(default_config().cluster.enabled);
  EXPECT_FALSE(embedded_config().cluster.enabled);
  ConfigFile pw("s3cret\n");
  ConfigFile f(R"({"cluster": {"redis": "redis://10.0.0.5:6380/2", "passwordFile": ")" + pw.path() +
               R"(", "key": "app", "adapter": "sharded", "requestsTimeout": 700,
                   "reconnectMin": 50, "reconnectMax": 800, "publishBufferBytes": 4096,
                   "maxMessageBytes": 65536, "heartbeatInterval": 250, "nodeTtl": 1500,
                   "pluginRedisTimeout": 900}})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_TRUE(c.cluster.enabled);
  EXPECT_EQ(c.cluster.address.host, "10.0.0.5");
  EXPECT_EQ(c.cluster.address.port, 6380);
  EXPECT_EQ(c.cluster.address.db, 2);
  EXPECT_EQ(c.cluster.address.password, "s3cret");
  EXPECT_EQ(c.cluster.options.key, "app");
  EXPECT_EQ(c.cluster.options.adapter, cluster::AdapterKind::Sharded);
  EXPECT_EQ(c.cluster.options.requests_timeout.count(), 700);
  EXPECT_EQ(c.cluster.redis.reconnect_max.count(), 800);
  EXPECT_EQ(c.cluster.redis.publish_buffer_bytes, 4096u);
  EXPECT_EQ(c.cluster.options.max_message_bytes, 65536u);
  EXPECT_EQ(c.cluster.nodes.interval.count(), 250);
  EXPECT_EQ(c.cluster.nodes.ttl.count(), 1500);
  EXPECT_EQ(c.cluster.plugin_redis_timeout.count(), 900);
  ConfigFile unix_file(R"({"cluster": {"redis": "unix:///run/redis/redis.sock?db=3"}})");
  Config u = default_config();
  ASSERT_TRUE(load_config(unix_file.path(), u, e));
  EXPECT_EQ(u.cluster.address.unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(u.cluster.address.db, 3);
  ConfigFile streams(R"({"cluster": {"adapter": "streams", "streamName": "live", "streamCount": 4,
                        "maxLen": 500, "readCount": 50, "sessionKeyPrefix": "s:",
                        "recoveryWindowEntries": 0, "recoveryWindowBytes": 4096}})");
  Config st = default_config();
  ASSERT_TRUE(load_config(streams.path(), st, e)) << e.to_string();
  EXPECT_EQ(st.cluster.options.adapter, cluster::AdapterKind::Streams);
  EXPECT_EQ(st.cluster.streams.stream_name, "live");
  EXPECT_EQ(st.cluster.streams.stream_count, 4u);
  EXPECT_EQ(st.cluster.streams.max_len, 500u);
  EXPECT_EQ(st.cluster.streams.read_count, 50u);
  EXPECT_EQ(st.cluster.session_key_prefix, "s:");
  EXPECT_EQ(st.cluster.streams.window.max_entries, 0u);
  EXPECT_EQ(st.cluster.streams.window.max_bytes, 4096u);
  EXPECT_EQ(default_config().cluster.streams.max_len, 10000u);
  EXPECT_EQ(default_config().cluster.streams.window.max_entries, 50000u);
  EXPECT_EQ(default_config().cluster.streams.window.max_bytes, 33554432u);
}

TEST(Config, ClusterErrorsNameTheKey) {
  struct Case {
    const char* text;
    const char* key;
  } cases[] = {
      {R"({"cluster": {"redis": "http://x"}})", "cluster.redis"},
      {R"({"cluster": {"redis": "redis://h:99999"}})", "cluster.redis"},
      {R"({"cluster": {"adapter": "kafka"}})", "cluster.adapter"},
      {R"({"cluster": {"adapter": "streams", "maxLen": 0}})", "cluster.maxLen"},
      {R"({"cluster": {"adapter": "streams", "streamCount": 0}})", "cluster.streamCount"},
      {R"({"cluster": {"streamName": ""}})", "cluster.streamName"},
      {R"({"cluster": {"readCount": 0}})", "cluster.readCount"},
      {R"({"cluster": {"recoveryWindowEntries": -1}})", "cluster.recoveryWindowEntries"},
      {R"({"cluster": {"recoveryWindowBytes": "big"}})", "cluster.recoveryWindowBytes"},
      {R"({"cluster": {"passwordFile": "/nonexistent/pw"}})", "cluster.passwordFile"},
      {R"({"cluster": {"key": "a#b"}})", "cluster.key"},
      {R"({"cluster": {"reconnectMin": 500, "reconnectMax": 100}})", "cluster.reconnectMax"},
      {R"({"cluster": {"maxMessageBytes": 10}})", "cluster.maxMessageBytes"},
      {R"({"cluster": {"heartbeatInterval": 3000, "nodeTtl": 2000}})", "cluster.nodeTtl"},
      {R"({"cluster": {"heartbeatInterval": 10}})", "cluster.heartbeatInterval"},
      {R"({"cluster": {"redis": "redis://h", "retry": 1}})", "cluster.retry"},
  };
  for (const Case& c : cases) EXPECT_EQ(load_error(c.text).key, c.key) << c.text;
}

TEST(Cli, ParsesCommandsAndRefusesBadArguments) {
  std::string err;
  auto a = parse_arguments({"--config", "x.json", "--listen", "127.0.0.1:0"}, err);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->command, Arguments::Command::Serve);
  EXPECT_EQ(*a->config_path, "x.json");
  EXPECT_EQ(*a->listen, "127.0.0.1:0");
  EXPECT_EQ(parse_arguments({"--check-config", "y"}, err)->command,
            Arguments::Command::CheckConfig);
  EXPECT_EQ(parse_arguments({"--version"}, err)->command, Arguments::Command::Version);
  EXPECT_FALSE(parse_arguments({"--config"}, err));
  EXPECT_EQ(err, "--config needs a value");
  EXPECT_FALSE(parse_arguments({"--frobnicate"}, err));
  EXPECT_EQ(err, "unknown argument: --frobnicate");
  EXPECT_FALSE(parse_arguments({"--config", "a", "--config", "b"}, err));
}

TEST(Config, AdminIsOffUnlessConfigured) {
  Config c = default_config();
  EXPECT_FALSE(c.admin.enabled);
  ConfigFile f(R"({"admin": {"auth": null, "mode": "development", "uiDir": ""}})");
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  EXPECT_TRUE(c.admin.enabled);
  EXPECT_FALSE(c.admin.auth);
  EXPECT_TRUE(c.admin.development);
  EXPECT_EQ(c.admin.namespace_name, "/admin");
  EXPECT_EQ(c.admin.ui_path, "/admin/");
  EXPECT_EQ(c.admin.stats_interval, loop::Millis(2000));
}

TEST(Config, AdminReadsTheHashFile) {
  ConfigFile hash("$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW\n");
  ConfigFile f(R"({"admin": {"auth": {"username": "ops", "passwordHashFile": ")" + hash.path() +
               R"("}, "uiDir": ""}})");
  Config c = default_config();
  ConfigError e;
  ASSERT_TRUE(load_config(f.path(), c, e)) << e.to_string();
  ASSERT_TRUE(c.admin.auth);
  EXPECT_EQ(c.admin.auth->username, "ops");
  EXPECT_EQ(c.admin.auth->password.cost, 4);
}

TEST(Config, AdminErrorsNameTheKey) {
  EXPECT_EQ(load_error(R"({"admin": {}})").key, "admin.auth");
  EXPECT_EQ(load_error(R"({"admin": {"auth": 1}})").key, "admin.auth");
  EXPECT_EQ(load_error(R"({"admin": {"auth": {"username": "a"}}})").key,
            "admin.auth.passwordHashFile");
  ConfigFile plain("secret");
  ConfigError e = load_error(R"({"admin": {"auth": {"username": "a", "passwordHashFile": ")" +
                             plain.path() + R"("}}})");
  EXPECT_EQ(e.key, "admin.auth.passwordHashFile");
  EXPECT_NE(e.message.find("bcrypt"), std::string::npos) << e.message;
  ConfigFile costly("$2b$15$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW");
  e = load_error(R"({"admin": {"auth": {"username": "a", "passwordHashFile": ")" + costly.path() +
                 R"("}}})");
  EXPECT_EQ(e.key, "admin.auth.passwordHashFile");
  EXPECT_EQ(load_error(R"({"admin": {"auth": null, "mode": "dev"}})").key, "admin.mode");
  EXPECT_EQ(load_error(R"({"admin": {"auth": null, "namespaceName": "/"}})").key,
            "admin.namespaceName");
  EXPECT_EQ(load_error(R"({"admin": {"auth": null, "uiPath": "/admin"}})").key, "admin.uiPath");
  EXPECT_EQ(load_error(R"({"admin": {"auth": null, "uiDir": "/nonexistent"}})").key, "admin.uiDir");
  EXPECT_EQ(load_error(R"({"admin": {"auth": null, "statsInterval": 5}})").key,
            "admin.statsInterval");
  EXPECT_EQ(load_error(R"({"admin": {"auth": null, "colour": 5}})").key, "admin.colour");
}

}  // namespace
}  // namespace daheim::app
