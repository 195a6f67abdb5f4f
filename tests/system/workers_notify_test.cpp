// `workers`: the supervisor as systemd sees it, against a real NOTIFY_SOCKET
// listener and a real redis-server: READY=1 once both workers are, the
// watchdog fed, a hung worker (SIGSTOP) killed and replaced, STOPPING=1 and
// exit 0 on SIGTERM with no worker left.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "systemd_fixtures.hpp"

namespace {

using namespace std::chrono_literals;

const char* binary() {
  return daheim::testing::daheim_live_binary();
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool connectable(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> out;
  for (pid_t p; in >> p;) out.push_back(p);
  return out;
}

using daheim::testing::expect_clean_stop;
using daheim::testing::NotifySocket;

TEST(SystemdWorkers, ReadyWatchdogHungWorkerAndStop) {
  int redis_port = free_port();
  pid_t parent = getpid();
  pid_t redis = fork();
  if (redis == 0) {
    daheim::testing::die_with_parent(parent);
    execlp("redis-server", "redis-server", "--port", std::to_string(redis_port).c_str(), "--bind",
           "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", "/tmp", "--loglevel",
           "warning", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 300 && !connectable(redis_port); ++i) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(connectable(redis_port)) << "redis-server did not start";

  std::string config = "/tmp/daheim-workers-" + std::to_string(getpid()) + ".json";
  std::ofstream(config) << R"({"listen": "127.0.0.1:0", "workers": 2, "drainTime": 1000,
    "cluster": {"redis": "redis://127.0.0.1:)"
                        << redis_port << R"("}})";
  NotifySocket sock("daheim-workers-notify", 20);
  pid_t pid = fork();
  if (pid == 0) {
    daheim::testing::die_with_parent(parent);
    setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
    setenv("WATCHDOG_USEC", "400000", 1);
    setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    execl(binary(), binary(), "--config", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // The supervisor's own messages only: the workers report to it. Its
  // watchdog runs from the start; READY=1 comes once both workers are.
  std::string m;
  do {
    m = sock.next();
  } while (m == "WATCHDOG=1");
  EXPECT_EQ(m.rfind("READY=1\nSTATUS=2 workers on http://127.0.0.1:", 0), 0u) << m;
  auto workers = children_of(pid);
  ASSERT_EQ(workers.size(), 2u);

  // A worker whose loop hangs stops feeding its watchdog: it is killed and
  // another started, while systemd's watchdog keeps being fed.
  kill(workers[0], SIGSTOP);
  auto t0 = std::chrono::steady_clock::now();
  int pings = 0;
  for (;;) {
    std::string p = sock.next();
    ASSERT_EQ(p, "WATCHDOG=1");
    ++pings;
    auto now = children_of(pid);
    bool replaced = now.size() == 2 && now[0] != workers[0] && now[1] != workers[0];
    if (replaced) break;
    ASSERT_LT(std::chrono::steady_clock::now() - t0, 10s) << "hung worker not replaced";
  }
  EXPECT_GE(pings, 1);

  auto before_stop = children_of(pid);
  expect_clean_stop(pid, sock);
  for (pid_t w : before_stop) EXPECT_NE(kill(w, 0), 0) << "worker " << w << " left running";
  kill(redis, SIGKILL);
  waitpid(redis, nullptr, 0);
  std::remove(config.c_str());
}

}  // namespace
