#include "admin/live_events.hpp"

#include "admin/wire.hpp"
#include "socketio/adapter.hpp"
#include "socketio/event.hpp"
#include "socketio/json_text.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::admin {
namespace {

std::string quoted(std::string_view text) {
  std::string out;
  socketio::json::append_string(out, text);
  return out;
}

}  // namespace

LiveEvents::LiveEvents(socketio::Namespace& admin, std::size_t max_queued, WallClock wall)
    : admin_(admin),
      max_queued_(max_queued),
      wall_(std::move(wall)),
      flush_timer_(admin.server().timers(), [this] { flush(); }) {}

std::string LiveEvents::date() const {
  return quoted(iso_date(wall_()));
}

void LiveEvents::queue(std::string_view event, std::string args) {
  if (queue_.size() >= max_queued_) {
    ++dropped_;
    return;
  }
  queue_.emplace_back(event, std::move(args));
  if (!flush_timer_.armed()) flush_timer_.arm(loop::Millis(0));
}

void LiveEvents::flush() {
  std::vector<std::pair<std::string_view, std::string>> batch;
  batch.swap(queue_);
  for (auto& [event, args] : batch) admin_.emit(event, "[" + args + "]");
}

void LiveEvents::watch(socketio::Namespace& nsp) {
  std::string name = quoted(nsp.name());
  nsp.on_connection([this, name](socketio::Socket& s) {
    std::string socket = serialize_socket(socketio::describe_socket(s), s.nsp().name());
    queue("socket_connected", socket + "," + date());
  });
  nsp.on_disconnect([this, name](socketio::Socket& s, socketio::DisconnectReason reason) {
    queue("socket_disconnected",
          name + "," + quoted(s.id()) + "," + quoted(socketio::to_string(reason)) + "," + date());
  });
  nsp.observe_rooms([this, name](std::string_view room, std::string_view id, bool joined) {
    queue(joined ? "room_joined" : "room_left",
          name + "," + quoted(room) + "," + quoted(id) + "," + date());
  });
  if (&nsp == &admin_) return;
  nsp.observe_incoming([this, name](socketio::Socket& s, const socketio::Event& e) {
    queue("event_received",
          name + "," + quoted(s.id()) + "," + event_with_name(e.name, e.args) + "," + date());
  });
  nsp.observe_outgoing(
      [this, name](socketio::Socket& s, std::string_view event, std::string_view args) {
        queue("event_sent",
              name + "," + quoted(s.id()) + "," + event_with_name(event, args) + "," + date());
      });
}

}  // namespace daheim::admin
