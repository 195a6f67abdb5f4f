#include "app/cli.hpp"

namespace daheim::app {

const char* usage() {
  return "usage: daheim-live [--config FILE] [--listen HOST:PORT]\n"
         "       daheim-live --check-config FILE\n"
         "       daheim-live --help | --version\n"
         "\n"
         "  --config FILE        read the configuration from FILE (JSON, comments allowed);\n"
         "                       without it the embedded default is used\n"
         "  --listen HOST:PORT   listen there instead of the configured address (port 0: any)\n"
         "  --check-config FILE  check FILE and exit (0 valid, 78 invalid)\n";
}

std::optional<Arguments> parse_arguments(const std::vector<std::string>& args, std::string& error) {
  Arguments out;
  for (std::size_t i = 0; i < args.size(); ++i) {
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
    } else if (a == "--listen") {
      if (!value(out.listen)) return std::nullopt;
    } else {
      error = "unknown argument: " + a;
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace daheim::app
