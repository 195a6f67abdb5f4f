#include "dev/demo_page.hpp"

#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>

namespace daheim::dev {

extern const std::string_view kDemoPageHtml;

bool install_demo(transport::Server& server, const DemoConfig& demo, const std::string& eio_path,
                  std::string& error) {
  if (demo.enabled) {
    server.add_route(transport::kServiceDemo, "/", [](const transport::RouteRequest&) {
      return transport::HttpReply{200, "text/html; charset=utf-8", std::string(kDemoPageHtml), {}};
    });
  }
  if (demo.client_script.empty()) return true;
  std::ifstream in(demo.client_script, std::ios::binary);
  if (!in) {
    error = "cannot read " + demo.client_script;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto script = std::make_shared<const std::string>(ss.str());
  server.add_route(
      transport::kServiceDemo, eio_path + "socket.io.min.js",
      [script](const transport::RouteRequest&) {
        return transport::HttpReply{200, "application/javascript; charset=utf-8", *script, {}};
      });
  return true;
}

}  // namespace daheim::dev
