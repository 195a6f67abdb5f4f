// HTTP routes that plugins register (host API 1.1), as the host sees them.
// Pure: the app connects HttpRouter to the transport's routes.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace daheim::plugin {

struct HttpAnswer;
// Answers a deferred call once, on the loop; false: the client left.
using HttpResponder = std::function<bool(HttpAnswer answer)>;

struct HttpCall {
  std::string_view method;
  std::string_view path;
  std::string_view body;
  std::string_view remote_address;
  std::function<std::optional<std::string>(std::string_view lower_name)> header;
  // Header values handed to the plugin, kept until the call returns.
  mutable std::deque<std::string> header_values;
  // Holds the request to answer it later (the handler's own answer is then
  // ignored); empty when the route cannot answer later.
  std::function<HttpResponder()> defer;
  mutable bool deferred = false;
};

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using HttpHandler = std::function<HttpAnswer(const HttpCall& call)>;
// Registers `handler` for `method` `path`; false when the path is taken.
using HttpRouter = std::function<bool(std::string_view method, std::string_view path,
                                      std::size_t max_body, HttpHandler handler)>;

}  // namespace daheim::plugin
