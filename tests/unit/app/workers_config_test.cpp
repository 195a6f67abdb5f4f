// `workers` and the cluster's forwarding keys (issue 16).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "app/config.hpp"

namespace daheim::app {
namespace {

struct Loaded {
  bool ok;
  Config config;
  ConfigError error;
};

Loaded load(const std::string& text) {
  char name[] = "/tmp/daheim-workers-XXXXXX";
  close(mkstemp(name));
  std::ofstream(name) << text;
  Loaded l{false, default_config(), {}};
  l.ok = load_config(name, l.config, l.error);
  std::remove(name);
  return l;
}

TEST(WorkersConfig, DefaultsAndValues) {
  EXPECT_EQ(default_config().workers, 1);
  EXPECT_TRUE(default_config().cluster.forwarding);
  EXPECT_EQ(default_config().cluster.internal_host, "127.0.0.1");
  EXPECT_EQ(default_config().cluster.internal_port, 0);
  auto l = load(R"({"workers": 3, "cluster": {"internalListen": "10.0.0.7:3100"}})");
  ASSERT_TRUE(l.ok) << l.error.to_string();
  EXPECT_EQ(l.config.workers, 3);
  EXPECT_EQ(l.config.cluster.internal_host, "10.0.0.7");
  EXPECT_EQ(l.config.cluster.internal_port, 3100);
  l = load(R"({"workers": "auto", "cluster": {}})");
  ASSERT_TRUE(l.ok) << l.error.to_string();
  EXPECT_EQ(l.config.workers, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  l = load(R"({"cluster": {"internalListen": "0.0.0.0:0", "internalAddress": "10.0.0.7"}})");
  ASSERT_TRUE(l.ok) << l.error.to_string();
  EXPECT_EQ(l.config.cluster.internal_address, "10.0.0.7");
  l = load(R"({"workers": 1})");  // one worker needs no cluster
  EXPECT_TRUE(l.ok) << l.error.to_string();
}

TEST(WorkersConfig, ErrorsNameTheKey) {
  struct Case {
    const char* text;
    const char* key;
  } cases[] = {
      {R"({"workers": 2})", "workers"},
      {R"({"workers": 0, "cluster": {}})", "workers"},
      {R"({"workers": "all", "cluster": {}})", "workers"},
      {R"({"workers": 2, "cluster": {"forwarding": false}})", "cluster.forwarding"},
      {R"({"cluster": {"internalListen": "nowhere"}})", "cluster.internalListen"},
      {R"({"cluster": {"internalListen": "0.0.0.0:0"}})", "cluster.internalAddress"},
      {R"({"cluster": {"internalAddress": "::1"}})", "cluster.internalAddress"},
  };
  for (const Case& c : cases) {
    auto l = load(c.text);
    EXPECT_FALSE(l.ok) << c.text;
    EXPECT_EQ(l.error.key, c.key) << c.text;
  }
}

}  // namespace
}  // namespace daheim::app
