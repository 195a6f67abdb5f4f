// The authentication middleware's families in /metrics:
//
//   daheim_auth_accepted_total                 counter, sockets accepted
//   daheim_auth_refusals_total{reason}         counter, by auth error code
//                                              and rate_limited
//   daheim_auth_expired_disconnects_total      counter, tokens that ran out
//   daheim_auth_connect_rate_users             gauge, users with a CONNECT rate bucket
//   daheim_auth_failure_addresses              gauge, addresses with failures in their window
#pragma once

#include "auth_middleware/authenticator.hpp"
#include "ops/monitoring.hpp"

namespace daheim::ops {

void write_auth_metrics(MetricsWriter& w, const auth_middleware::AuthStats& stats);

}  // namespace daheim::ops
