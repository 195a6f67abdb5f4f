// The handlers the official socket.io protocol suite expects, as a plugin
// (configure the namespaces "/" and "/custom"): on connect each socket gets
// `auth` with its CONNECT payload; `message` is answered with `message-back`
// carrying the same arguments; `message-with-ack` is acked with its
// arguments. Arguments are forwarded as received (text and attachments),
// without parsing them.
#include <daheim/plugin.hpp>

#include <string>

namespace {

class Conformance {
 public:
  void onConnect(dhl::Socket& socket) {
    std::string args = "[" + std::string(socket.info(DHL_INFO_AUTH)) + "]";
    dhl_payload p{args.data(), args.size(), nullptr, 0};
    socket.emit_raw("auth", &p);
  }

  void message(dhl::Socket& socket, dhl::Call& call) {
    socket.emit_raw("message-back", &call.raw());
  }

  void message_with_ack(dhl::Socket&, dhl::Call& call) { call.reply_raw(&call.raw()); }
};

}  // namespace

DHL_PLUGIN(Conformance, "conformance", "1.0.0", dhl::method<&Conformance::message>("$message"),
           dhl::method<&Conformance::message_with_ack>("$message-with-ack"))
