#include "cluster/redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace daheim::cluster {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

bool push_kind(std::string_view s) {
  static constexpr std::array<std::string_view, 10> kinds = {
      "message",    "pmessage",    "smessage",     "subscribe",    "psubscribe",
      "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "pong"};
  for (std::string_view k : kinds)
    if (s == k) return true;
  return false;
}

}  // namespace

std::string resolve_endpoint(const RedisAddress& address, RedisEndpoint& out) {
  out.address = address;
  if (address.is_unix()) {
    sockaddr_un un{};
    if (address.unix_path.size() >= sizeof un.sun_path) return "unix socket path too long";
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, address.unix_path.data(), address.unix_path.size());
    std::memcpy(&out.addr, &un, sizeof un);
    out.addr_len = sizeof un;
    return {};
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(address.port);
  if (int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return "cannot resolve " + address.host + ": " + gai_strerror(rc);
  std::memcpy(&out.addr, res->ai_addr, res->ai_addrlen);
  out.addr_len = res->ai_addrlen;
  freeaddrinfo(res);
  return {};
}

void append_command(std::string& out, std::span<const std::string_view> args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (std::string_view a : args) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out.append(a);
    out += "\r\n";
  }
}

RedisConnection::RedisConnection(loop::Reactor& reactor, loop::TimerQueue& timers,
                                 const RedisEndpoint& endpoint, Limits limits, bool subscriber,
                                 Handlers handlers)
    : reactor_(reactor),
      endpoint_(endpoint),
      limits_(limits),
      subscriber_(subscriber),
      handlers_(std::move(handlers)),
      connect_timer_(timers, [this] { fail("connect timed out"); }),
      alive_(std::make_shared<bool>(true)) {}

RedisConnection::~RedisConnection() {
  *alive_ = false;
  close();
}

void RedisConnection::open() {
  close();
  int family = endpoint_.addr.ss_family;
  fd_ = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return fail(std::string("socket: ") + std::strerror(errno));
  if (family != AF_UNIX) {
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  }
  state_ = State::Connecting;
  reader_ = redisReaderCreate();
  if (connect(fd_, reinterpret_cast<const sockaddr*>(&endpoint_.addr), endpoint_.addr_len) != 0 &&
      errno != EINPROGRESS && errno != EAGAIN)
    return fail(std::string("connect: ") + std::strerror(errno));
  watch_ = reactor_.watch(fd_, *this);
  if (!watch_) return fail("the event loop refused the socket");
  write_wanted_ = true;
  watch_->want_write();  // connect completion shows as writability
  connect_timer_.arm(limits_.connect_timeout);
}

void RedisConnection::close() {
  connect_timer_.disarm();
  // What this turn queued still goes, as far as the kernel takes it now.
  if (state_ == State::Ready) out_.send_to(fd_);
  watch_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (reader_ != nullptr) redisReaderFree(reader_);
  reader_ = nullptr;
  out_.clear();
  write_wanted_ = false;
  state_ = State::Closed;
  drop_pending();
}

void RedisConnection::drop_pending() {
  // A callback may destroy this connection: run them from a local copy.
  std::deque<ReplyCallback> pending = std::move(pending_);
  pending_.clear();
  for (auto& cb : pending)
    if (cb) cb(nullptr);
}

void RedisConnection::fail(const std::string& why) {
  if (state_ == State::Closed) return;
  close();
  if (handlers_.lost) handlers_.lost(why);
}

void RedisConnection::connected() {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return fail(std::string("connect: ") + std::strerror(err));
  state_ = State::LoggingIn;
  const RedisAddress& a = endpoint_.address;
  std::string db = std::to_string(a.db);
  int steps = (a.password.empty() ? 0 : 1) + (a.db != 0 ? 1 : 0);
  if (steps == 0) {
    connect_timer_.disarm();
    state_ = State::Ready;
    if (handlers_.ready) handlers_.ready();
    return;
  }
  if (!a.password.empty()) {
    std::string_view args[] = {"AUTH", a.password};
    write_raw(args);
    pending_.push_back([this, last = steps == 1](const redisReply* r) { login_reply(r, last); });
  }
  if (a.db != 0) {
    std::string_view args[] = {"SELECT", db};
    write_raw(args);
    pending_.push_back([this](const redisReply* r) { login_reply(r, true); });
  }
  flush();
}

void RedisConnection::login_reply(const redisReply* reply, bool last) {
  if (reply == nullptr) return;
  if (reply->type == REDIS_REPLY_ERROR)
    return fail("login refused: " + std::string(reply->str, reply->len));
  if (!last) return;
  connect_timer_.disarm();
  state_ = State::Ready;
  if (handlers_.ready) handlers_.ready();
}

void RedisConnection::write_raw(std::span<const std::string_view> args) {
  append_command(out_.tail(), args);
}

// Commands are not written at once: the first of a loop turn asks for
// writability, and on_writable() (the next turn) writes all of them in one
// send(), so Redis reads them at once (pipelining; replies keep their order).
bool RedisConnection::command(std::span<const std::string_view> args, ReplyCallback callback) {
  if (state_ != State::Ready || output_bytes() > limits_.max_output_bytes) return false;
  write_raw(args);
  pending_.push_back(std::move(callback));
  want_flush();
  return true;
}

bool RedisConnection::push_command(std::span<const std::string_view> args) {
  if (state_ != State::Ready || output_bytes() > limits_.max_output_bytes) return false;
  write_raw(args);
  want_flush();
  return true;
}

void RedisConnection::want_flush() {
  if (write_wanted_) return;
  write_wanted_ = true;
  watch_->want_write();
}

void RedisConnection::flush() {
  int err = out_.send_to(fd_);
  if (err == EAGAIN) return want_flush();
  if (err != 0) fail(std::string("write: ") + std::strerror(err));
}

// What was queued inside this callback (the login, or the commands of the
// ready handler) is written here: lws drops a writability request made from
// within the writable callback of the same descriptor.
void RedisConnection::on_writable() {
  std::weak_ptr<bool> alive = alive_;
  if (state_ == State::Connecting) connected();
  if (alive.expired() || !*alive.lock()) return;
  write_wanted_ = false;
  if (state_ != State::Closed) flush();
}

void RedisConnection::on_readable() {
  // A refused connect shows as readable (error/hang-up) before any write
  // readiness on some loops: SO_ERROR tells.
  if (state_ == State::Connecting) return connected();
  std::weak_ptr<bool> alive = alive_;
  char buf[kReadChunk];
  for (;;) {
    if (state_ == State::Closed) return;
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return fail("Redis closed the connection");
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return fail(std::string("read: ") + std::strerror(errno));
    }
    if (redisReaderFeed(reader_, buf, static_cast<std::size_t>(n)) != REDIS_OK)
      return fail("reader: out of memory");
    for (;;) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader_, &reply) != REDIS_OK)
        return fail(std::string("protocol error: ") + reader_->errstr);
      if (reply == nullptr) break;
      dispatch(static_cast<redisReply*>(reply));
      if (alive.expired() || !*alive.lock() || state_ == State::Closed) return;
    }
    if (reader_->len - reader_->pos > limits_.max_reply_bytes)
      return fail("a reply is larger than maxMessageBytes");
    if (static_cast<std::size_t>(n) < sizeof buf) return;
  }
}

bool RedisConnection::is_push(const redisReply& r) const {
  if (!subscriber_ || r.type != REDIS_REPLY_ARRAY || r.elements == 0) return false;
  const redisReply* kind = r.element[0];
  return kind->type == REDIS_REPLY_STRING && push_kind(std::string_view(kind->str, kind->len));
}

void RedisConnection::dispatch(redisReply* reply) {
  std::unique_ptr<redisReply, void (*)(void*)> owned(reply, freeReplyObject);
  if (is_push(*reply) || pending_.empty()) {
    if (handlers_.push) handlers_.push(*reply);
    return;
  }
  ReplyCallback cb = std::move(pending_.front());
  pending_.pop_front();
  if (cb) cb(reply);
}

}  // namespace daheim::cluster
