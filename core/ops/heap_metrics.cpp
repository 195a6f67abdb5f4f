#include "ops/heap_metrics.hpp"

#include <malloc.h>

#include <cstddef>

#if defined(__SANITIZE_THREAD__)
#define DAHEIM_HEAP_ALLOCATOR "tsan"
#elif defined(__SANITIZE_ADDRESS__)
#define DAHEIM_HEAP_ALLOCATOR "asan"
#define DAHEIM_HEAP_PROFILE 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DAHEIM_HEAP_ALLOCATOR "tsan"
#elif __has_feature(address_sanitizer)
#define DAHEIM_HEAP_ALLOCATOR "asan"
#define DAHEIM_HEAP_PROFILE 1
#endif
#endif

#ifdef DAHEIM_HEAP_ALLOCATOR
// The sanitizer runtimes' allocator interface (<sanitizer/allocator_interface.h>, which gcc does
// not install).
extern "C" {
size_t __sanitizer_get_current_allocated_bytes();
size_t __sanitizer_get_free_bytes();
size_t __sanitizer_get_heap_size();
}
#endif
#ifdef DAHEIM_HEAP_PROFILE
// <sanitizer/common_interface_defs.h>; ASan implements it (with LeakSanitizer's thread stop).
extern "C" void __sanitizer_print_memory_profile(size_t top_percent, size_t max_contexts);
#endif

namespace daheim::ops {

HeapFigures heap_figures() {
#ifdef DAHEIM_HEAP_ALLOCATOR
  return {__sanitizer_get_current_allocated_bytes(), __sanitizer_get_free_bytes(),
          __sanitizer_get_heap_size(), DAHEIM_HEAP_ALLOCATOR};
#else
  const struct mallinfo2 m = mallinfo2();
  return {m.uordblks + m.hblkhd, m.fordblks, m.arena + m.hblkhd, "glibc"};
#endif
}

void write_heap_metrics(MetricsWriter& w) {
  const HeapFigures h = heap_figures();
  auto gauge = [&](std::string_view name, uint64_t value, std::string_view help) {
    w.family(name, "gauge", help);
    w.sample(name, static_cast<double>(value), "allocator", h.allocator);
  };
  gauge("daheim_heap_allocated_bytes", h.allocated,
        "Bytes malloc has handed out and not got back (the live heap).");
  gauge("daheim_heap_free_bytes", h.free, "Freed heap bytes the allocator keeps for reuse.");
  gauge("daheim_heap_mapped_bytes", h.mapped,
        "Memory the heap allocator has taken from the system.");
}

bool print_heap_profile() {
#ifdef DAHEIM_HEAP_PROFILE
  __sanitizer_print_memory_profile(100, size_t{1} << 20);
  return true;
#else
  return false;
#endif
}

}  // namespace daheim::ops
