// One plugin shared object, loaded with RTLD_NOW | RTLD_LOCAL and checked:
// the entry function, the ABI major, the descriptor's size and its method
// table. Unloaded when destroyed.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "daheim/plugin.h"

namespace daheim::plugin {

class Library {
 public:
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  // Loads and validates `path`. On failure returns null and sets `error` to
  // one line naming the path.
  static std::unique_ptr<Library> open(const std::string& path, std::string& error);

  const std::string& path() const { return path_; }
  // The descriptor as this host knows it (members past the plugin's
  // struct_size are zero).
  const dhl_plugin_desc& desc() const { return desc_; }
  std::string_view name() const { return desc_.name; }
  std::string_view version() const { return desc_.version ? desc_.version : ""; }
  std::span<const dhl_method> methods() const { return {desc_.methods, desc_.method_count}; }

 private:
  struct Impl;
  Library(std::string path, std::unique_ptr<Impl> impl);

  std::string path_;
  std::unique_ptr<Impl> impl_;
  dhl_plugin_desc desc_{};
};

// Checks one method name: "$" followed by a non-reserved event name of at
// most 255 bytes of UTF-8 without control characters. Empty when fine, else
// what is wrong.
std::string check_method_name(const char* name);

}  // namespace daheim::plugin
