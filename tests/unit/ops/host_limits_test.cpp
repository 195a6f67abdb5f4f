// The start-up check of host limits against the config: one exact warning per
// limit below what the config asks for, none when everything fits.
#include "ops/host_limits.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace daheim::ops {
namespace {

TEST(HostLimits, NoWarningWhenEverythingFits) {
  HostLimits host{1048576, 65535, 2097152};
  EXPECT_TRUE(host_limit_warnings(host, {100000, 4096}).empty());
}

TEST(HostLimits, UnknownLimitsAreNotWarnedAbout) {
  EXPECT_TRUE(host_limit_warnings(HostLimits{}, {10000000, 65535}).empty());
}

TEST(HostLimits, MaxConnectionsAboveTheFdLimit) {
  auto w = host_limit_warnings({1024, 4096, -1}, {15000, 4096});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "engineio.maxConnections is 15000 but the open-file limit (RLIMIT_NOFILE) is 1024: "
            "at most 960 connections will be accepted; raise LimitNOFILE= (the packaged unit sets "
            "1048576) or `ulimit -n`, or lower engineio.maxConnections");
}

TEST(HostLimits, TheFdReserveCounts) {
  // 15000 connections need 15064 descriptors.
  EXPECT_EQ(host_limit_warnings({15064, -1, -1}, {15000, 4096}).size(), 0u);
  EXPECT_EQ(host_limit_warnings({15063, -1, -1}, {15000, 4096}).size(), 1u);
}

TEST(HostLimits, SomaxconnBelowTheBacklog) {
  auto w = host_limit_warnings({-1, 128, -1}, {15000, 4096});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "net.core.somaxconn is 128, below the listen backlog of 4096 the server asks for: the "
            "kernel cuts the backlog to 128, and connections arriving in a burst (every client "
            "reconnecting after a restart) beyond it are dropped and retried; set "
            "net.core.somaxconn in /etc/sysctl.d/ (the package's "
            "/usr/lib/sysctl.d/60-daheim-live.conf sets 65535)");
  EXPECT_TRUE(host_limit_warnings({-1, 4096, -1}, {15000, 4096}).empty());
}

TEST(HostLimits, ConntrackTableSmallerThanMaxConnections) {
  auto w = host_limit_warnings({-1, -1, 65536}, {100000, 4096});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "net.netfilter.nf_conntrack_max is 65536, below engineio.maxConnections 100000: when "
            "the connection-tracking table is full the kernel drops new connections "
            "(\"nf_conntrack: table full\"); raise it in /etc/sysctl.d/ (the package's "
            "/usr/lib/sysctl.d/60-daheim-live.conf sets 2097152) or exempt the port from "
            "tracking");
}

TEST(HostLimits, AllThreeInOrder) {
  auto w = host_limit_warnings({1024, 128, 512}, {15000, 4096});
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].rfind("engineio.maxConnections", 0), 0u);
  EXPECT_EQ(w[1].rfind("net.core.somaxconn", 0), 0u);
  EXPECT_EQ(w[2].rfind("net.netfilter.nf_conntrack_max", 0), 0u);
}

TEST(HostLimits, ReadsProcSysFiles) {
  auto dir =
      std::filesystem::temp_directory_path() / ("daheim-host-limits-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "net/core");
  std::filesystem::create_directories(dir / "net/netfilter");
  std::ofstream(dir / "net/core/somaxconn") << "1234\n";
  std::ofstream(dir / "net/netfilter/nf_conntrack_max") << "262144\n";
  HostLimits h = read_host_limits(dir.string());
  EXPECT_EQ(h.somaxconn, 1234);
  EXPECT_EQ(h.conntrack_max, 262144);
  EXPECT_GT(h.open_files, 0);
  std::filesystem::remove(dir / "net/netfilter/nf_conntrack_max");
  EXPECT_EQ(read_host_limits(dir.string()).conntrack_max, -1);  // module not loaded
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace daheim::ops
