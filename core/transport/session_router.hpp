// Sessions served by any node (issue 16): the endpoint asks the router which
// node holds a sid it does not know, and forwards the request there. The
// cluster implements it (cluster::RouteRegistry, wired in app); without a
// router every node answers for its own sessions only.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace daheim::transport {

class SessionRouter {
 public:
  using Done = std::function<void(const std::string& address)>;
  virtual ~SessionRouter() = default;
  // What the sids this node hands out start with.
  virtual const std::string& tag() const = 0;
  // `done` gets the internal "host:port" of the node that handed out `sid`,
  // or an empty string when no live node did. May run before returning.
  virtual void locate(std::string_view sid, Done done) = 0;
  // The node at the address `sid` led to did not answer.
  virtual void forget(std::string_view sid) = 0;
};

}  // namespace daheim::transport
