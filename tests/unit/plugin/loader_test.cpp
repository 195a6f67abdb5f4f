// Loading plugins: every way a plugin can be refused gives one clear line
// naming the file, and a failed load leaves nothing loaded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "harness.hpp"
#include "plugin/host.hpp"
#include "plugin/library.hpp"
#include "plugin_test_util.hpp"

namespace daheim::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class LoaderTest : public ::testing::Test {
 protected:
  std::string load(std::vector<std::string> names) {
    std::vector<plugin::PluginSpec> specs;
    for (const std::string& n : names) specs.push_back({n.front() == '/' ? n : fixture(n), "null"});
    return host.load(specs);
  }

  Harness h;
  ManualInbox inbox;
  plugin::Host host{h.server, inbox};
};

TEST_F(LoaderTest, LoadsAPluginAndRunsItsInit) {
  StderrCapture err;
  EXPECT_EQ(load({"fix_a"}), "");
  EXPECT_EQ(host.plugin_count(), 1u);
  std::string log = err.take();
  EXPECT_THAT(log, HasSubstr("plugin fix-a: fix-a init"));
  EXPECT_THAT(log, HasSubstr("plugin fix-a 0.1 loaded from " + fixture("fix_a") + " (2 methods)"));
}

TEST_F(LoaderTest, MissingFile) {
  std::string path = fixture("does_not_exist");
  EXPECT_EQ(load({path}), "plugin " + path + ": no such file");
}

TEST_F(LoaderTest, NotASharedObject) {
  std::string path = ::testing::TempDir() + "not_a_plugin.so";
  std::ofstream(path) << "this is text, not ELF\n";
  std::string error = load({path});
  EXPECT_THAT(error, HasSubstr("plugin " + path + ": not a loadable shared object ("));
  std::filesystem::remove(path);
}

TEST_F(LoaderTest, NoEntryFunction) {
  EXPECT_EQ(load({"fix_no_entry"}),
            "plugin " + fixture("fix_no_entry") +
                ": no entry function dhl_plugin_v1 (not a daheim-live plugin, or it was not "
                "exported)");
}

TEST_F(LoaderTest, NewerAbiMajorInTheDescriptor) {
  std::string minor = std::to_string(DHL_ABI_MINOR);  // the fixture's minor is today's
  EXPECT_EQ(load({"fix_abi2"}), "plugin " + fixture("fix_abi2") + ": built for plugin ABI 2." +
                                    minor + "; this server provides ABI 1." + minor);
}

TEST_F(LoaderTest, NewerAbiMajorEntryOnly) {
  EXPECT_EQ(load({"fix_v2_only"}), "plugin " + fixture("fix_v2_only") +
                                       ": built for plugin ABI 2; this server provides ABI 1");
}

TEST_F(LoaderTest, DescriptorTooSmall) {
  EXPECT_THAT(load({"fix_small"}), HasSubstr(": descriptor too small (16 bytes, ABI 1.0 has"));
}

TEST_F(LoaderTest, MalformedMethodName) {
  EXPECT_EQ(load({"fix_bad_name"}),
            "plugin " + fixture("fix_bad_name") +
                ": method #0: \"ready\" is not \"$\" followed by an event name");
}

TEST_F(LoaderTest, ReservedEventName) {
  EXPECT_THAT(load({"fix_reserved"}),
              HasSubstr("\"$disconnect\" names a reserved event clients cannot send"));
}

TEST_F(LoaderTest, DuplicateNameWithinOnePlugin) {
  EXPECT_EQ(load({"fix_dup_self"}),
            "plugin " + fixture("fix_dup_self") + ": method $dup-self is defined twice");
}

TEST_F(LoaderTest, DuplicateNameAcrossPluginsNamesBoth) {
  StderrCapture err;
  EXPECT_EQ(load({"fix_a", "fix_b"}), "plugin " + fixture("fix_b") +
                                          ": method $same is also defined by plugin " +
                                          fixture("fix_a"));
  EXPECT_EQ(host.plugin_count(), 0u);
  // The first plugin was initialised, so it is shut down again.
  EXPECT_THAT(err.take(), AllOf(HasSubstr("fix-a init"), HasSubstr("fix-a shutdown")));
}

TEST_F(LoaderTest, InitFailureRollsBackEverything) {
  StderrCapture err;
  std::string error = load({"fix_a", "fix_init_fail"});
  EXPECT_EQ(error, "plugin " + fixture("fix_init_fail") + " (init-fail): init failed (returned 3)");
  EXPECT_EQ(host.plugin_count(), 0u);
  // Its own reason came first; its posted task and timer never run.
  inbox.run();
  h.timers.advance(loop::Millis(10));
  std::string log = err.take();
  EXPECT_THAT(log, HasSubstr("init-fail cannot start: the key \"x\" is missing"));
  EXPECT_THAT(log, HasSubstr("fix-a shutdown"));
  EXPECT_THAT(log, Not(HasSubstr("must not happen")));
  EXPECT_THAT(log, Not(HasSubstr("init-fail shutdown")));
}

TEST_F(LoaderTest, SdkPluginInitThatThrowsFailsTheLoad) {
  StderrCapture err;
  plugin::PluginSpec spec{built_plugin("test/alpha.so"), R"({"failInit":true})"};
  EXPECT_THAT(host.load({spec}), HasSubstr("(alpha): init failed (returned 1)"));
  EXPECT_THAT(err.take(), HasSubstr("plugin alpha: init failed: failInit was set"));
}

TEST(MethodNames, Rules) {
  EXPECT_EQ(plugin::check_method_name("$ready"), "");
  EXPECT_EQ(plugin::check_method_name("$Lesson.create"), "");
  EXPECT_EQ(plugin::check_method_name("$message-with-ack"), "");
  EXPECT_NE(plugin::check_method_name(nullptr), "");
  EXPECT_NE(plugin::check_method_name("$"), "");
  EXPECT_NE(plugin::check_method_name("ready"), "");
  EXPECT_NE(plugin::check_method_name("$a\nb"), "");
  EXPECT_NE(plugin::check_method_name("$\xff"), "");
  EXPECT_NE(plugin::check_method_name("$connect"), "");
  EXPECT_NE(plugin::check_method_name(("$" + std::string(300, 'x')).c_str()), "");
}

TEST(PluginPaths, RelativeToTheDirectory) {
  EXPECT_EQ(plugin::resolve_plugin_path("/usr/lib/p", "a.so"), "/usr/lib/p/a.so");
  EXPECT_EQ(plugin::resolve_plugin_path("/usr/lib/p", "sub/../b.so"), "/usr/lib/p/b.so");
  EXPECT_EQ(plugin::resolve_plugin_path("/usr/lib/p", "/opt/c.so"), "/opt/c.so");
}

}  // namespace
}  // namespace daheim::testing
