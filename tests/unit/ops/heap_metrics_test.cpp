// The allocator's figures: a block held shows in the allocated bytes and leaves them when freed;
// /metrics carries the three gauges labelled with the allocator the build uses.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ops/heap_metrics.hpp"
#include "ops/monitoring.hpp"

namespace daheim::ops {
namespace {

constexpr std::size_t kBlock = 8 << 20;
// Keeps the block observable, so the compiler cannot drop the malloc/free pair.
void* volatile held = nullptr;

std::string expected_allocator() {
#if defined(__SANITIZE_THREAD__)
  return "tsan";
#elif defined(__SANITIZE_ADDRESS__)
  return "asan";
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  return "tsan";
#elif __has_feature(address_sanitizer)
  return "asan";
#else
  return "glibc";
#endif
#else
  return "glibc";
#endif
}

TEST(HeapFigures, AHeldBlockCountsAsAllocatedUntilFreed) {
  const HeapFigures before = heap_figures();
  held = std::malloc(kBlock);
  ASSERT_NE(held, nullptr);
  std::memset(held, 1, kBlock);
  const HeapFigures during = heap_figures();
  std::free(held);
  held = nullptr;
  const HeapFigures after = heap_figures();

  EXPECT_EQ(during.allocator, expected_allocator());
  EXPECT_GE(during.allocated, before.allocated + kBlock);
  EXPECT_LE(after.allocated + kBlock, during.allocated);
  EXPECT_GE(during.mapped, during.allocated);
}

TEST(HeapMetrics, ThreeGaugesLabelledWithTheAllocator) {
  held = std::malloc(kBlock);
  std::memset(held, 1, kBlock);
  std::string out;
  MetricsWriter w(out);
  write_heap_metrics(w);
  std::free(held);
  held = nullptr;
  uint64_t value[3] = {};
  const char* names[] = {"daheim_heap_allocated_bytes", "daheim_heap_free_bytes",
                         "daheim_heap_mapped_bytes"};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(names[i]);
    EXPECT_NE(out.find(std::string("# TYPE ") + names[i] + " gauge\n"), std::string::npos);
    const std::string prefix =
        std::string("\n") + names[i] + "{allocator=\"" + expected_allocator() + "\"} ";
    const std::size_t at = out.find(prefix);
    ASSERT_NE(at, std::string::npos) << out;
    const std::size_t digits = at + prefix.size();
    const std::size_t eol = out.find('\n', digits);
    ASSERT_NE(eol, std::string::npos);
    const std::string number = out.substr(digits, eol - digits);
    ASSERT_EQ(number.find_first_not_of("0123456789"), std::string::npos) << number;
    value[i] = std::stoull(number);
  }
  EXPECT_GE(value[0], kBlock);
  EXPECT_GE(value[2], value[0]);
}

}  // namespace
}  // namespace daheim::ops
