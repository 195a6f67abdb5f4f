// Command-line parsing. Bad arguments exit 64 (EX_USAGE) with the usage.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace daheim::app {

inline constexpr int kExitUsage = 64;
inline constexpr int kExitConfig = 78;

struct Arguments {
  enum class Command { Serve, Help, Version, CheckConfig, Token } command = Command::Serve;
  std::optional<std::string> config_path;
  std::optional<std::string> listen;
  // `token`: the claims of a development token.
  std::optional<std::string> sub;
  std::optional<std::string> role;
  std::optional<std::string> ttl;  // e.g. 3600, 90s, 15m, 1h, 2d
  std::optional<std::string> kid;
};

// Returns nullopt and fills `error` for bad arguments.
std::optional<Arguments> parse_arguments(const std::vector<std::string>& args, std::string& error);
const char* usage();
// Seconds in a duration like "3600", "90s", "15m", "1h", "2d"; nullopt if invalid.
std::optional<long long> parse_duration(const std::string& text);

}  // namespace daheim::app
