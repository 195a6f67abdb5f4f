#include "app/admin_setup.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "log/log.hpp"
#include "ops/monitoring.hpp"
#include "transport/server.hpp"

namespace daheim::app {
namespace {

std::string content_type(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "application/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

// The page without what it would fetch from the internet (web fonts and the
// icon font's stylesheet from CDNs): the UI must work on a closed network.
std::string offline_page(std::string html) {
  for (std::size_t at = html.find("<link rel=\"stylesheet\" href=\"https://");
       at != std::string::npos; at = html.find("<link rel=\"stylesheet\" href=\"https://", at)) {
    std::size_t end = html.find('>', at);
    if (end == std::string::npos) break;
    html.erase(at, end + 1 - at);
  }
  return html;
}

void add_file(transport::Server& server, const std::string& path, std::string type,
              std::string body) {
  auto shared = std::make_shared<const std::string>(std::move(body));
  server.add_route(transport::kServiceAdmin, path,
                   [shared, type = std::move(type)](const transport::RouteRequest&) {
                     return transport::HttpReply{200, type, *shared, {}};
                   });
}

// Every file of the UI's dist folder (source maps left out), index.html
// also at the folder's own path, and the path without its slash redirected.
bool serve_ui(const admin::AdminOptions& o, transport::Server& server, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::size_t files = 0;
  for (fs::recursive_directory_iterator it(o.ui_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() == ".map") continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) {
      error = "cannot read " + it->path().string();
      return false;
    }
    std::string rel = fs::relative(it->path(), o.ui_dir).generic_string();
    std::string body = ss.str();
    if (rel == "index.html") {
      body = offline_page(std::move(body));
      add_file(server, o.ui_path, content_type(it->path()), body);
    }
    add_file(server, o.ui_path + rel, content_type(it->path()), std::move(body));
    ++files;
  }
  if (ec || files == 0) {
    error = "cannot read the admin UI's files in " + o.ui_dir;
    return false;
  }
  std::string bare = o.ui_path.substr(0, o.ui_path.size() - 1);
  server.add_route(
      transport::kServiceAdmin, bare, [to = o.ui_path](const transport::RouteRequest&) {
        return transport::HttpReply{301, "text/plain; charset=utf-8", "", {{"location", to}}};
      });
  log::info("admin: the UI's {} files served at {}", files, o.ui_path);
  return true;
}

void write_metrics(ops::MetricsWriter& w, const admin::AdminStats& s) {
  w.counter("daheim_admin_logins_total", "Admin UI logins by password", s.logins);
  w.counter("daheim_admin_refused_total", "Admin UI connections refused", s.refused);
  w.counter("daheim_admin_commands_total", "Admin UI commands applied", s.commands);
  w.counter("daheim_admin_commands_ignored_total",
            "Admin UI commands ignored (malformed, unknown namespace, read-only)", s.bad_commands);
  w.counter("daheim_admin_events_dropped_total",
            "Development-mode notifications dropped (admin.maxQueuedEvents)", s.events_dropped);
}

}  // namespace

std::unique_ptr<admin::Admin> make_admin(const Config& config, socketio::Server& io) {
  if (!config.admin.enabled) return nullptr;
  return std::make_unique<admin::Admin>(io, config.admin, nullptr);
}

bool start_admin(admin::Admin& admin, const transport::EngineIoEndpoint& endpoint,
                 transport::Server& server, ops::Monitoring& monitoring, std::string& error) {
  admin.set_sampler([&endpoint] {
    const transport::EndpointStats& s = endpoint.stats();
    auto [polling, websocket] = endpoint.sessions_by_transport();
    return admin::EngineSample{s.sessions_opened, s.messages_in,       s.messages_out, s.bytes_in,
                               s.bytes_out,       polling + websocket, polling};
  });
  const admin::AdminOptions& o = admin.options();
  if (!o.ui_dir.empty() && !serve_ui(o, server, error)) return false;
  admin.start();
  monitoring.add_source([&admin](ops::MetricsWriter& w) { write_metrics(w, admin.stats()); });
  log::notice("admin: namespace {} ({} mode, {}{})", o.namespace_name,
              o.development ? "development" : "production",
              o.auth ? "basic authentication as " + o.auth->username : "NO authentication",
              o.readonly ? ", read-only" : "");
  return true;
}

}  // namespace daheim::app
