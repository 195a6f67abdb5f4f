#include "app/entry.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include "app/cli.hpp"
#include "app/config.hpp"
#include "app/daemon.hpp"
#include "app/supervisor.hpp"
#include "daheim_version.h"
#include "dev/dev_token.hpp"

namespace daheim::app {
namespace {

// Reads the config file (or takes the embedded default); prints the error.
bool read_config(const Arguments& parsed, const Fixtures* fixtures, Config& config) {
  config = parsed.config_path ? default_config() : embedded_config();
  ConfigError error;
  if (parsed.config_path && !load_config(*parsed.config_path, config, error)) {
    std::fprintf(stderr, "daheim-live: %s\n", error.to_string().c_str());
    return false;
  }
  if (!config.test_handler.empty() && !fixtures) {
    error = {config.source, "testHandler",
             "test fixtures are not part of this binary (the build tree's daheim-live-test "
             "serves them, for the test suites only)"};
    std::fprintf(stderr, "daheim-live: %s\n", error.to_string().c_str());
    return false;
  }
  return true;
}

int print_token(const Arguments& parsed, const Config& config) {
  dev::TokenClaims claims{*parsed.sub, parsed.role,
                          parsed.ttl ? *parse_duration(*parsed.ttl) : 3600,
                          parsed.kid.value_or("")};
  std::string error;
  std::string token = dev::make_dev_token(config.auth, claims, error);
  if (token.empty()) {
    std::fprintf(stderr, "daheim-live: config error: %s: %s\n", config.source.c_str(),
                 error.c_str());
    return kExitConfig;
  }
  std::printf("%s\n", token.c_str());
  return 0;
}

}  // namespace

int run_main(int argc, char** argv, const Fixtures* fixtures) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string error;
  auto parsed = parse_arguments(args, error);
  if (!parsed) {
    std::fprintf(stderr, "daheim-live: %s\n%s", error.c_str(), usage());
    return kExitUsage;
  }
  if (parsed->command == Arguments::Command::Help) {
    std::fputs(usage(), stdout);
    return 0;
  }
  if (parsed->command == Arguments::Command::Version) {
    std::printf("daheim-live %s\n", DAHEIM_VERSION);
    return 0;
  }
  Config config;
  if (!read_config(*parsed, fixtures, config)) return kExitConfig;
  if (parsed->command == Arguments::Command::Token) return print_token(*parsed, config);
  if (parsed->command == Arguments::Command::CheckConfig) {
    std::printf("%s: ok\n", parsed->config_path->c_str());
    return 0;
  }
  transport::ListenerOptions& first = config.server.listeners.front();
  if (parsed->listen && !parse_listen(*parsed->listen, first.host, first.port)) {
    std::fprintf(stderr, "daheim-live: --listen expects HOST:PORT, got %s\n%s",
                 parsed->listen->c_str(), usage());
    return kExitUsage;
  }
  if (config.workers > 1) return run_supervisor(std::move(config), fixtures);
  return run_daemon(std::move(config), fixtures);
}

}  // namespace daheim::app
