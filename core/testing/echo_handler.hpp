// The bare Engine.IO echo of the conformance mode: every message goes back
// unchanged, text as text and binary as binary.
#pragma once

#include "engineio/handler.hpp"

namespace daheim::testing {

class EchoHandler final : public engineio::Handler {
 public:
  explicit EchoHandler(engineio::Connection& connection) : connection_(connection) {}
  void on_message(std::string_view text) override {
    connection_.send(engineio::make_text_frame(engineio::PacketType::Message, text));
  }
  void on_binary(std::string_view data) override {
    connection_.send(engineio::make_binary_frame(data));
  }
  void on_close(engineio::CloseReason) override {}

 private:
  engineio::Connection& connection_;
};

}  // namespace daheim::testing
