#include "socketio/server.hpp"

#include "socketio/client.hpp"
#include "socketio/in_memory_adapter.hpp"
#include "socketio/in_memory_session_store.hpp"
#include "socketio/namespace.hpp"

namespace daheim::socketio {
namespace {

constexpr std::size_t kScratchKeep = 64 * 1024;

std::string normalize(std::string_view name) {
  std::string n;
  if (name.empty() || name[0] != '/') n += '/';
  n.append(name);
  return n;
}

}  // namespace

Server::Server(loop::TimerQueue& timers, Options options) : timers_(timers), options_(options) {
  if (options_.recovery.enabled)
    session_store_ = std::make_unique<InMemorySessionStore>(timers_, options_.recovery);
  of(kMainNamespace);
}

Server::~Server() = default;

Namespace& Server::of(std::string_view name) {
  std::string key = normalize(name);
  auto it = namespaces_.find(key);
  if (it == namespaces_.end()) {
    auto nsp = std::make_unique<Namespace>(*this, key);
    it = namespaces_.emplace(std::move(key), std::move(nsp)).first;
  }
  return *it->second;
}

Namespace* Server::find(std::string_view name) const {
  auto it =
      !name.empty() && name[0] == '/' ? namespaces_.find(name) : namespaces_.find(normalize(name));
  return it == namespaces_.end() ? nullptr : it->second.get();
}

std::unique_ptr<engineio::Handler> Server::make_client(engineio::Connection& connection) {
  return std::make_unique<Client>(*this, connection);
}

void Server::set_session_store(std::unique_ptr<SessionStore> store) {
  session_store_ = std::move(store);
}

std::unique_ptr<Adapter> Server::make_adapter(Namespace& nsp) {
  if (adapter_factory_) return adapter_factory_(nsp);
  return std::make_unique<InMemoryAdapter>(nsp);
}

void Server::return_scratch(std::string&& scratch) {
  if (scratch.capacity() <= kScratchKeep) scratch_ = std::move(scratch);
}

}  // namespace daheim::socketio
