// sd_notify against a real NOTIFY_SOCKET listener: the binary started as
// systemd would start a Type=notify service with a watchdog.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "systemd_fixtures.hpp"

namespace {

const char* binary() {
  return daheim::testing::daheim_live_binary();
}

using daheim::testing::expect_clean_stop;
using daheim::testing::NotifySocket;

pid_t start(const NotifySocket& sock) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    daheim::testing::die_with_parent(parent);
    setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
    setenv("WATCHDOG_USEC", "200000", 1);
    setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    execl(binary(), binary(), "--listen", "127.0.0.1:0", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST(SystemdNotify, ReadyWatchdogAndStopping) {
  NotifySocket sock("daheim-notify", 5);
  pid_t pid = start(sock);
  ASSERT_GT(pid, 0);
  std::string first = sock.next();
  EXPECT_EQ(first.rfind("READY=1\nSTATUS=listening on http://127.0.0.1:", 0), 0u) << first;

  // WATCHDOG_USEC=200 ms: pings every 100 ms from the loop.
  auto t0 = std::chrono::steady_clock::now();
  int pings = 0;
  while (pings < 3) {
    std::string m = sock.next();
    ASSERT_FALSE(m.empty()) << "no watchdog ping";
    if (m == "WATCHDOG=1") ++pings;
  }
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(elapsed, std::chrono::milliseconds(3000));

  expect_clean_stop(pid, sock);
}

}  // namespace

namespace {

// Socket activation: the listener is created here, passed as fd 3 with
// LISTEN_FDS/LISTEN_PID, and the server must answer on it.
TEST(SystemdSocketActivation, ServesOnThePassedSocket) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  NotifySocket sock("daheim-notify", 5);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    daheim::testing::die_with_parent(parent);
    if (listener != 3) dup2(listener, 3);
    fcntl(3, F_SETFD, 0);  // dup2 onto itself keeps close-on-exec
    setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    // The configured address is busy-looking on purpose: it must be ignored.
    execl(binary(), binary(), "--listen", "127.0.0.1:1", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(listener);
  std::string ready = sock.next();
  EXPECT_EQ(ready, "READY=1\nSTATUS=listening on http://127.0.0.1:" + std::to_string(port));

  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string req =
      "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(write(c, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;)
    response.append(buf, static_cast<std::size_t>(n));
  close(c);
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("\r\n\r\n0{\"sid\":\""), std::string::npos) << response;

  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace

namespace {

int loopback_listener(sockaddr_in& addr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    ADD_FAILURE() << "cannot listen on 127.0.0.1";
  return fd;
}

// The status line of GET `path` on `addr`.
std::string status_of(const sockaddr_in& addr, const std::string& path) {
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(c, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return "no connect";
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (write(c, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return "no write";
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;)
    response.append(buf, static_cast<std::size_t>(n));
  close(c);
  return response.substr(0, response.find("\r\n"));
}

std::string write_config(const std::string& text) {
  std::string path = "/tmp/daheim-system-" + std::to_string(getpid()) + ".json";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return path;
}

// Runs the binary with `fds` passed from fd 3 on, as systemd does.
pid_t start_activated(const std::vector<int>& fds, const std::string& config,
                      const NotifySocket* sock) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    daheim::testing::die_with_parent(parent);
    std::vector<int> moved;
    for (int fd : fds) moved.push_back(fcntl(fd, F_DUPFD_CLOEXEC, 100));
    for (std::size_t i = 0; i < moved.size(); ++i) dup2(moved[i], 3 + static_cast<int>(i));
    if (sock) setenv("NOTIFY_SOCKET", sock->path().c_str(), 1);
    setenv("LISTEN_FDS", std::to_string(fds.size()).c_str(), 1);
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    execl(binary(), binary(), "--config", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Two passed sockets are the two listeners, in order, each serving its part.
TEST(SystemdSocketActivation, PassedSocketsAreTheListenersInOrder) {
  sockaddr_in pub{}, internal{};
  int fds[2] = {loopback_listener(pub), loopback_listener(internal)};
  std::string config = write_config(R"({"listeners": [
      {"listen": "127.0.0.1:1", "serve": ["socketio"]},
      {"listen": "127.0.0.1:2", "serve": ["metrics"]}]})");
  NotifySocket sock("daheim-notify", 5);
  pid_t pid = start_activated({fds[0], fds[1]}, config, &sock);
  close(fds[0]);
  close(fds[1]);
  std::string ready = sock.next();
  EXPECT_EQ(ready,
            "READY=1\nSTATUS=listening on http://127.0.0.1:" + std::to_string(ntohs(pub.sin_port)) +
                ", http://127.0.0.1:" + std::to_string(ntohs(internal.sin_port)));
  std::string eio = "/socket.io/?EIO=4&transport=polling";
  EXPECT_EQ(status_of(pub, eio), "HTTP/1.1 200 OK");
  EXPECT_EQ(status_of(pub, "/metrics"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(status_of(internal, "/metrics"), "HTTP/1.1 200 OK");
  EXPECT_EQ(status_of(internal, eio), "HTTP/1.1 404 Not Found");
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::remove(config.c_str());
}

// Fewer passed sockets than listeners: a config error, not a guess.
TEST(SystemdSocketActivation, CountMismatchIsAConfigError) {
  sockaddr_in addr{};
  int fd = loopback_listener(addr);
  std::string config = write_config(R"({"listeners": [
      {"listen": "127.0.0.1:1"}, {"listen": "127.0.0.1:2"}]})");
  pid_t pid = start_activated({fd}, config, nullptr);
  close(fd);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 78);
  std::remove(config.c_str());
}

}  // namespace
