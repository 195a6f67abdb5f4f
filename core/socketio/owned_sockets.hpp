// The sockets a Client owns, one per namespace it joined. Most clients join
// one namespace: that socket is held inline, and only a client with two or
// more gets a heap vector (kept until the Client goes).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace daheim::socketio {

class Socket;

class OwnedSockets {
 public:
  OwnedSockets();
  ~OwnedSockets();
  OwnedSockets(const OwnedSockets&) = delete;
  OwnedSockets& operator=(const OwnedSockets&) = delete;

  bool empty() const { return size() == 0; }
  std::size_t size() const { return many_ ? many_->size() : one_ ? 1 : 0; }
  // In the order added.
  std::span<const std::unique_ptr<Socket>> all() const {
    if (many_) return *many_;
    return one_ ? std::span<const std::unique_ptr<Socket>>(&one_, 1)
                : std::span<const std::unique_ptr<Socket>>();
  }

  void add(std::unique_ptr<Socket> socket);
  // Hands `socket` over to the caller; null when it is not held here.
  std::unique_ptr<Socket> take(const Socket& socket);
  // Hands every socket over, in the order added; none is held afterwards.
  std::vector<std::unique_ptr<Socket>> take_all();

 private:
  std::unique_ptr<Socket> one_;  // the only socket, while many_ is null
  std::unique_ptr<std::vector<std::unique_ptr<Socket>>> many_;
};

}  // namespace daheim::socketio
