// SessionEntry's size: one per session, so every byte counts (BENCHMARKS.md
// 10.11). A held GET is on lws or on our own HTTP/1.1 handling, never both:
// one pointer and a flag, which keeps the entry in a 256 B malloc chunk (with the
// Session's byte counter in 32 bits, BENCHMARKS.md 10.13).
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>

#include "transport/engineio_endpoint.hpp"

namespace daheim::transport {
namespace {

TEST(SessionEntry, FitsA256ByteMallocChunk) {
  void* p = std::malloc(sizeof(SessionEntry));
  ASSERT_NE(p, nullptr);
  // glibc: the usable size is the chunk less its 8 B header.
  std::size_t chunk = malloc_usable_size(p) + 8;
  std::free(p);
  EXPECT_LE(chunk, 256u) << "sizeof(SessionEntry) is " << sizeof(SessionEntry);
}

}  // namespace
}  // namespace daheim::transport
