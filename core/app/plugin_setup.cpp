#include "app/plugin_setup.hpp"

#include <filesystem>
#include <memory>

#include "log/log.hpp"

namespace daheim::app {
namespace {

bool fail(std::string& key, std::string& message, std::string k, std::string m) {
  key = std::move(k);
  message = std::move(m);
  return false;
}

std::string config_text(const cJSON* value) {
  if (value == nullptr) return "null";
  std::unique_ptr<char, decltype(&cJSON_free)> text(cJSON_PrintUnformatted(value), cJSON_free);
  return text ? std::string(text.get()) : "null";
}

bool read_entry(const cJSON* entry, const std::string& at, plugin::PluginSpec& out,
                std::string& key, std::string& message) {
  if (!cJSON_IsObject(entry))
    return fail(key, message, at, "expected {\"path\": ..., \"config\": ...}");
  for (const cJSON* c = entry->child; c; c = c->next) {
    std::string name = c->string ? c->string : "";
    if (name == "path" && (!cJSON_IsString(c) || c->valuestring[0] == '\0'))
      return fail(key, message, at + ".path", "expected the plugin's file name or path");
    if (name != "path" && name != "config")
      return fail(key, message, at + "." + name, "unknown key");
  }
  const cJSON* path = cJSON_GetObjectItemCaseSensitive(entry, "path");
  if (path == nullptr) return fail(key, message, at + ".path", "missing (the plugin's file)");
  out.path = path->valuestring;
  out.config_json = config_text(cJSON_GetObjectItemCaseSensitive(entry, "config"));
  return true;
}

}  // namespace

bool read_plugins_config(const cJSON* plugin_dir, const cJSON* plugins, PluginsConfig& out,
                         std::string& key, std::string& message) {
  if (plugin_dir != nullptr) {
    if (!cJSON_IsString(plugin_dir) || plugin_dir->valuestring[0] == '\0')
      return fail(key, message, "pluginDir", "expected a directory");
    out.dir = plugin_dir->valuestring;
  }
  if (plugins == nullptr) return true;
  if (!cJSON_IsArray(plugins))
    return fail(key, message, "plugins", "expected a list of {\"path\": ...}");
  out.plugins.clear();
  int i = 0;
  for (const cJSON* entry = plugins->child; entry; entry = entry->next, ++i) {
    plugin::PluginSpec spec;
    if (!read_entry(entry, "plugins[" + std::to_string(i) + "]", spec, key, message)) return false;
    out.plugins.push_back(std::move(spec));
  }
  return true;
}

std::string plugin_directory(const PluginsConfig& config, const std::string& config_source) {
  if (config.dir.empty()) return plugin::default_plugin_dir();
  std::filesystem::path dir(config.dir);
  if (dir.is_absolute() || config_source.empty() || config_source.front() == '<') return config.dir;
  return (std::filesystem::path(config_source).parent_path() / dir).lexically_normal().string();
}

std::unique_ptr<plugin::Host> start_plugins(const PluginsConfig& config,
                                            const std::string& config_source,
                                            const std::vector<std::string>& namespaces,
                                            socketio::Server& io, loop::Inbox& inbox,
                                            const std::function<void(plugin::Host&)>& prepare) {
  auto host = std::make_unique<plugin::Host>(io, inbox, config.host);
  if (prepare) prepare(*host);
  std::string dir = plugin_directory(config, config_source);
  std::vector<plugin::PluginSpec> specs = config.plugins;
  for (plugin::PluginSpec& spec : specs) spec.path = plugin::resolve_plugin_path(dir, spec.path);
  if (std::string error = host->load(specs); !error.empty()) {
    log::error("{}", error);
    return nullptr;
  }
  if (host->method_count() == 0 && host->plugin_count() == 0) return host;
  for (const std::string& name : namespaces) host->install(io.of(name));
  return host;
}

}  // namespace daheim::app
