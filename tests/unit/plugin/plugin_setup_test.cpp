// The "pluginDir" / "plugins" config keys and start-up (core/app/plugin_setup).
#include <cjson/cJSON.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "app/plugin_setup.hpp"
#include "harness.hpp"
#include "plugin_test_util.hpp"

namespace daheim::testing {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  bool ok;
  app::PluginsConfig config;
  std::string key, message;
};

Parsed parse(const char* json) {
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(cJSON_Parse(json), cJSON_Delete);
  Parsed p{};
  p.ok = app::read_plugins_config(cJSON_GetObjectItem(root.get(), "pluginDir"),
                                  cJSON_GetObjectItem(root.get(), "plugins"), p.config, p.key,
                                  p.message);
  return p;
}

TEST(PluginConfig, ReadsDirAndEntries) {
  Parsed p = parse(
      R"({"pluginDir":"lib/p","plugins":[{"path":"a.so","config":{"x":[1,2]}},{"path":"/b.so"}]})");
  ASSERT_TRUE(p.ok) << p.key << ": " << p.message;
  EXPECT_EQ(p.config.dir, "lib/p");
  ASSERT_EQ(p.config.plugins.size(), 2u);
  EXPECT_EQ(p.config.plugins[0].path, "a.so");
  EXPECT_EQ(p.config.plugins[0].config_json, R"({"x":[1,2]})");
  EXPECT_EQ(p.config.plugins[1].config_json, "null");
  EXPECT_EQ(app::plugin_directory(p.config, "/etc/daheim-live/config.json"),
            "/etc/daheim-live/lib/p");
  EXPECT_EQ(app::plugin_directory({}, "/etc/x.json"), plugin::default_plugin_dir());
}

TEST(PluginConfig, Errors) {
  EXPECT_EQ(parse(R"({"plugins":{}})").key, "plugins");
  EXPECT_EQ(parse(R"({"plugins":[1]})").key, "plugins[0]");
  EXPECT_EQ(parse(R"({"plugins":[{"config":1}]})").key, "plugins[0].path");
  EXPECT_EQ(parse(R"({"plugins":[{"path":""}]})").key, "plugins[0].path");
  Parsed p = parse(R"({"plugins":[{"path":"a.so"},{"path":"b.so","cfg":1}]})");
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.key, "plugins[1].cfg");
  EXPECT_EQ(p.message, "unknown key");
  EXPECT_EQ(parse(R"({"pluginDir":3})").key, "pluginDir");
}

TEST(PluginSetup, StartsAndFails) {
  Harness h;
  ManualInbox inbox;
  app::PluginsConfig config;
  config.dir = PLUGINS_BUILD_DIR;
  config.plugins = {{"test/alpha.so", "null"}, {"test/beta.so", "null"}};
  auto host = app::start_plugins(config, "<embedded default>", {"/"}, h.server, inbox);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->plugin_count(), 2u);
  auto p = h.join();
  p->send(R"(421["ping"])");
  EXPECT_EQ(p->take(), std::vector<std::string>{R"(431["pong"])"});

  StderrCapture err;
  config.plugins.push_back({"test/missing.so", "null"});
  EXPECT_EQ(app::start_plugins(config, "<embedded default>", {"/"}, h.server, inbox), nullptr);
  EXPECT_THAT(err.take(), HasSubstr("plugin " PLUGINS_BUILD_DIR "/test/missing.so: no such file"));
}

}  // namespace
}  // namespace daheim::testing
