#include "plugin/library.hpp"

#include <dlfcn.h>
#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>

#include "socketio/json_text.hpp"
#include "socketio/packet.hpp"

namespace daheim::plugin {
namespace {

constexpr std::size_t kMaxMethods = 100000;
constexpr std::size_t kMaxNameLength = 255;
// The descriptor size of ABI 1.0: the least a v1 plugin may declare.
constexpr std::size_t kMinDescSize = offsetof(dhl_plugin_desc, method_count) + sizeof(std::size_t);

std::string prefix(const std::string& path) {
  return "plugin " + path + ": ";
}

// A newer major exports only its own entry symbol.
int newer_major_symbol(boost::dll::shared_library& lib) {
  for (int major = DHL_ABI_MAJOR + 1; major <= 9; ++major)
    if (lib.has("dhl_plugin_v" + std::to_string(major))) return major;
  return 0;
}

bool load(boost::dll::shared_library& lib, const std::string& path, std::string& error) {
  std::error_code exists_ec;
  if (!std::filesystem::exists(path, exists_ec)) {
    error = prefix(path) + "no such file";
    return false;
  }
  std::error_code ec;
  lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (!ec) return true;
  const char* why = dlerror();  // Boost.DLL's own codes say little; dlerror says what failed
  error = prefix(path) + "not a loadable shared object (" +
          (why ? std::string(why) : ec.message()) + ")";
  return false;
}

const dhl_plugin_desc* entry_descriptor(boost::dll::shared_library& lib, const std::string& path,
                                        std::string& error) {
  if (!lib.has(DHL_ENTRY_SYMBOL)) {
    if (int major = newer_major_symbol(lib))
      error = prefix(path) + "built for plugin ABI " + std::to_string(major) +
              "; this server provides ABI " + std::to_string(DHL_ABI_MAJOR);
    else
      error = prefix(path) + "no entry function " DHL_ENTRY_SYMBOL
                             " (not a daheim-live plugin, or it was not exported)";
    return nullptr;
  }
  auto entry = reinterpret_cast<dhl_entry_fn>(lib.get<void()>(DHL_ENTRY_SYMBOL));
  const dhl_plugin_desc* desc = entry();
  if (desc == nullptr) error = prefix(path) + DHL_ENTRY_SYMBOL "() returned no descriptor";
  return desc;
}

std::string check_header(const dhl_plugin_desc& d) {
  if (d.abi_major != DHL_ABI_MAJOR)
    return "built for plugin ABI " + std::to_string(d.abi_major) + "." +
           std::to_string(d.abi_minor) + "; this server provides ABI " +
           std::to_string(DHL_ABI_MAJOR) + "." + std::to_string(DHL_ABI_MINOR);
  if (d.struct_size < kMinDescSize)
    return "descriptor too small (" + std::to_string(d.struct_size) + " bytes, ABI 1.0 has " +
           std::to_string(kMinDescSize) + ")";
  return {};
}

std::string check_body(const dhl_plugin_desc& d) {
  if (d.name == nullptr || d.name[0] == '\0') return "the descriptor has no name";
  if (d.method_count > kMaxMethods) return "too many methods";
  if (d.method_count > 0 && d.methods == nullptr) return "method_count set but no method table";
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < d.method_count; ++i) {
    const dhl_method& m = d.methods[i];
    std::string bad = check_method_name(m.name);
    if (!bad.empty()) return "method #" + std::to_string(i) + ": " + bad;
    if (m.fn == nullptr) return std::string("method ") + m.name + " has no function";
    if (!seen.insert(m.name).second) return std::string("method ") + m.name + " is defined twice";
  }
  return {};
}

}  // namespace

struct Library::Impl {
  boost::dll::shared_library lib;
};

Library::Library(std::string path, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), impl_(std::move(impl)) {}

Library::~Library() = default;

std::unique_ptr<Library> Library::open(const std::string& path, std::string& error) {
  auto impl = std::make_unique<Impl>();
  if (!load(impl->lib, path, error)) return nullptr;
  const dhl_plugin_desc* raw = entry_descriptor(impl->lib, path, error);
  if (raw == nullptr) return nullptr;
  if (std::string bad = check_header(*raw); !bad.empty()) {
    error = prefix(path) + bad;
    return nullptr;
  }
  std::unique_ptr<Library> lib(new Library(path, std::move(impl)));
  std::memcpy(&lib->desc_, raw, std::min(raw->struct_size, sizeof(dhl_plugin_desc)));
  if (std::string bad = check_body(lib->desc_); !bad.empty()) {
    error = prefix(path) + bad;
    return nullptr;
  }
  return lib;
}

std::string check_method_name(const char* name) {
  if (name == nullptr) return "no name";
  std::string_view n(name);
  std::string shown = "\"" + std::string(n.substr(0, 64)) + "\"";
  if (n.size() < 2 || n[0] != '$') return shown + " is not \"$\" followed by an event name";
  std::string_view event = n.substr(1);
  if (event.size() > kMaxNameLength) return shown + " is too long";
  if (!socketio::json::valid_utf8(event)) return "a name is not valid UTF-8";
  if (std::any_of(event.begin(), event.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
    return shown + " has control characters";
  if (socketio::is_reserved_event(event))
    return shown + " names a reserved event clients cannot send";
  return {};
}

}  // namespace daheim::plugin
