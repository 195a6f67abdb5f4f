#include "app/cli.hpp"

namespace daheim::app {

const char* usage() {
  return "usage: daheim-live [--config FILE] [--listen HOST:PORT]\n"
         "       daheim-live --check-config FILE\n"
         "       daheim-live token --sub ID [--role ROLE] [--ttl 1h] [--kid KID] [--config FILE]\n"
         "       daheim-live --help | --version\n"
         "\n"
         "  --config FILE        read the configuration from FILE (JSON, comments allowed);\n"
         "                       without it the embedded default is used\n"
         "  --listen HOST:PORT   listen there instead of the configured address (with\n"
         "                       \"listeners\": instead of the first one's; port 0: any)\n"
         "  --check-config FILE  check FILE and exit (0 valid, 78 invalid)\n"
         "  token                print an HS256 token signed with auth.devSecret (development)\n";
}

std::optional<Arguments> parse_arguments(const std::vector<std::string>& args, std::string& error) {
  Arguments out;
  std::size_t first = 0;
  if (!args.empty() && args[0] == "token") {
    out.command = Arguments::Command::Token;
    first = 1;
  }
  bool token = out.command == Arguments::Command::Token;
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::optional<std::string>& slot) {
      if (i + 1 >= args.size()) {
        error = a + " needs a value";
        return false;
      }
      if (slot) {
        error = a + " given twice";
        return false;
      }
      slot = args[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      out.command = Arguments::Command::Help;
    } else if (a == "--version") {
      out.command = Arguments::Command::Version;
    } else if (a == "--config" || a == "-c") {
      if (!value(out.config_path)) return std::nullopt;
    } else if (a == "--check-config") {
      if (!value(out.config_path)) return std::nullopt;
      out.command = Arguments::Command::CheckConfig;
    } else if (a == "--listen" && !token) {
      if (!value(out.listen)) return std::nullopt;
    } else if (a == "--sub" && token) {
      if (!value(out.sub)) return std::nullopt;
    } else if (a == "--role" && token) {
      if (!value(out.role)) return std::nullopt;
    } else if (a == "--ttl" && token) {
      if (!value(out.ttl)) return std::nullopt;
      if (!parse_duration(*out.ttl)) {
        error = "--ttl expects a duration such as 3600, 90s, 15m, 1h or 2d";
        return std::nullopt;
      }
    } else if (a == "--kid" && token) {
      if (!value(out.kid)) return std::nullopt;
    } else {
      error = "unknown argument: " + a;
      return std::nullopt;
    }
  }
  if (token && !out.sub) {
    error = "token needs --sub";
    return std::nullopt;
  }
  return out;
}

std::optional<long long> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  long long n = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    n = n * 10 + (text[i] - '0');
    if (n > 100000000) return std::nullopt;
  }
  if (i == 0 || n == 0 || i + 1 < text.size()) return std::nullopt;
  if (i == text.size() || text[i] == 's') return n;
  if (text[i] == 'm') return n * 60;
  if (text[i] == 'h') return n * 3600;
  if (text[i] == 'd') return n * 86400;
  return std::nullopt;
}

}  // namespace daheim::app
