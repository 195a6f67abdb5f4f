// Command-line parsing. Bad arguments exit 64 (EX_USAGE) with the usage.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace daheim::app {

inline constexpr int kExitUsage = 64;
inline constexpr int kExitConfig = 78;

struct Arguments {
  enum class Command { Serve, Help, Version, CheckConfig } command = Command::Serve;
  std::optional<std::string> config_path;
  std::optional<std::string> listen;
};

// Returns nullopt and fills `error` for bad arguments.
std::optional<Arguments> parse_arguments(const std::vector<std::string>& args, std::string& error);
const char* usage();

}  // namespace daheim::app
