// Counters of one node's cluster traffic (loop thread; /metrics reads them).
#pragma once

#include <cstdint>

namespace daheim::cluster {

struct ClusterStats {
  uint64_t broadcasts_published = 0;  // broadcasts this node sent to the others
  uint64_t messages_received = 0;     // messages taken off the channels (own included)
  uint64_t messages_applied = 0;      // from another node and acted upon
  uint64_t messages_dropped = 0;      // garbage: undecodable, wrong shape, too large
  uint64_t request_timeouts = 0;      // cluster requests completed without every answer
};

}  // namespace daheim::cluster
