#include "ops/auth_metrics.hpp"

#include "auth/auth_error.hpp"

namespace daheim::ops {

void write_auth_metrics(MetricsWriter& w, const auth_middleware::AuthStats& stats) {
  constexpr std::size_t kRateLimited = auth_middleware::AuthStats::kRateLimited;
  w.counter("daheim_auth_accepted_total", "Sockets accepted with a valid token.", stats.accepted);
  w.family("daheim_auth_refusals_total", "counter", "Connections refused, by reason.");
  for (std::size_t i = 0; i < kRateLimited; ++i)
    w.sample("daheim_auth_refusals_total", static_cast<double>(stats.refusals[i]), "reason",
             auth::code(static_cast<auth::AuthError>(i)));
  w.sample("daheim_auth_refusals_total", static_cast<double>(stats.refusals[kRateLimited]),
           "reason", "rate_limited");
  w.counter("daheim_auth_expired_disconnects_total",
            "Sockets disconnected because their token expired.", stats.expired_disconnects);
  w.gauge("daheim_auth_connect_rate_users",
          "Users with a CONNECT rate bucket not yet full again (auth.connectsPerSecondPerUser).",
          stats.connect_rate_users);
  w.gauge("daheim_auth_failure_addresses",
          "Addresses with failed attempts in their auth.failureWindow.", stats.failure_addresses);
}

}  // namespace daheim::ops
