// The allocator's own figures in /metrics, to tell the server's live memory from what the
// allocator keeps for reuse (RSS alone cannot: freed memory often stays resident):
//
//   daheim_heap_allocated_bytes{allocator}  gauge, bytes malloc has handed out and not got back
//   daheim_heap_free_bytes{allocator}       gauge, freed bytes the allocator keeps for reuse
//   daheim_heap_mapped_bytes{allocator}     gauge, memory the allocator has taken from the system
//
// `allocator` is "glibc" (mallinfo2, summed over every arena) or, in a sanitizer build, "asan" or
// "tsan" (the sanitizer allocator's statistics). Under ASan, mapped - allocated - free is what the
// allocator keeps besides: redzones, chunk headers and the quarantine of recently freed chunks.
#pragma once

#include <cstdint>
#include <string_view>

#include "ops/monitoring.hpp"

namespace daheim::ops {

struct HeapFigures {
  uint64_t allocated = 0;
  uint64_t free = 0;
  uint64_t mapped = 0;
  std::string_view allocator;
};

HeapFigures heap_figures();
void write_heap_metrics(MetricsWriter& w);

// In an ASan build: writes ASan's heap profile (every live chunk, grouped by allocation stack) to
// stderr and returns true; in others returns false. Debugging only (SIGUSR2, tests/soak): it stops
// every thread while it walks the heap.
bool print_heap_profile();

}  // namespace daheim::ops
