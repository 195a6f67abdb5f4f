#include "socketio/owned_sockets.hpp"

#include <algorithm>
#include <utility>

#include "socketio/socket.hpp"

namespace daheim::socketio {

OwnedSockets::OwnedSockets() = default;
OwnedSockets::~OwnedSockets() = default;

void OwnedSockets::add(std::unique_ptr<Socket> socket) {
  if (!one_ && !many_) {
    one_ = std::move(socket);
    return;
  }
  if (!many_) {
    many_ = std::make_unique<std::vector<std::unique_ptr<Socket>>>();
    many_->push_back(std::move(one_));
  }
  many_->push_back(std::move(socket));
}

std::unique_ptr<Socket> OwnedSockets::take(const Socket& socket) {
  if (!many_) return one_.get() == &socket ? std::move(one_) : nullptr;
  auto it =
      std::find_if(many_->begin(), many_->end(), [&](const auto& s) { return s.get() == &socket; });
  if (it == many_->end()) return nullptr;
  std::unique_ptr<Socket> out = std::move(*it);
  many_->erase(it);
  return out;
}

std::vector<std::unique_ptr<Socket>> OwnedSockets::take_all() {
  std::vector<std::unique_ptr<Socket>> out;
  if (many_) {
    out = std::move(*many_);
    many_->clear();
  } else if (one_) {
    out.push_back(std::move(one_));
  }
  return out;
}

}  // namespace daheim::socketio
