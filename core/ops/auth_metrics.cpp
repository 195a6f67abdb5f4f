#include "ops/auth_metrics.hpp"

#include "auth/auth_error.hpp"

namespace daheim::ops {

void write_auth_metrics(MetricsWriter& w, const auth_middleware::AuthStats& stats) {
  constexpr std::size_t kRateLimited = auth_middleware::AuthStats::kRateLimited;
  w.family("daheim_auth_accepted_total", "counter", "Sockets accepted with a valid token.");
  w.sample("daheim_auth_accepted_total", static_cast<double>(stats.accepted));
  w.family("daheim_auth_refusals_total", "counter", "Connections refused, by reason.");
  for (std::size_t i = 0; i < kRateLimited; ++i)
    w.sample("daheim_auth_refusals_total", static_cast<double>(stats.refusals[i]), "reason",
             auth::code(static_cast<auth::AuthError>(i)));
  w.sample("daheim_auth_refusals_total", static_cast<double>(stats.refusals[kRateLimited]),
           "reason", "rate_limited");
  w.family("daheim_auth_expired_disconnects_total", "counter",
           "Sockets disconnected because their token expired.");
  w.sample("daheim_auth_expired_disconnects_total", static_cast<double>(stats.expired_disconnects));
  w.family("daheim_auth_connect_rate_users", "gauge",
           "Users with a CONNECT rate bucket not yet full again (auth.connectsPerSecondPerUser).");
  w.sample("daheim_auth_connect_rate_users", static_cast<double>(stats.connect_rate_users));
  w.family("daheim_auth_failure_addresses", "gauge",
           "Addresses with failed attempts in their auth.failureWindow.");
  w.sample("daheim_auth_failure_addresses", static_cast<double>(stats.failure_addresses));
}

}  // namespace daheim::ops
