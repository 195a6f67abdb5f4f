#include "transport/post_body.hpp"

#include <gtest/gtest.h>

namespace daheim::transport {
namespace {

TEST(PostBody, OneOwnerAtATime) {
  PostBody body;
  int a = 0, b = 0;
  EXPECT_TRUE(body.claim(&a));
  EXPECT_TRUE(body.owned_by(&a));
  EXPECT_FALSE(body.owned_by(&b));
  EXPECT_FALSE(body.owned_by(nullptr));
  EXPECT_FALSE(body.claim(&b));  // b reads into its own buffer
  body.text() = "4hello";
  body.release(&b);  // not b's: nothing happens
  EXPECT_TRUE(body.owned_by(&a));
  EXPECT_EQ(body.text(), "4hello");
  body.release(&a);
  EXPECT_FALSE(body.owned_by(&a));
  EXPECT_TRUE(body.claim(&b));
  EXPECT_EQ(body.text(), "");  // the next owner starts empty
}

TEST(PostBody, KeepsItsCapacityUpToTheLimit) {
  PostBody body;
  int a = 0;
  ASSERT_TRUE(body.claim(&a));
  body.text().assign(1000, 'x');
  const char* data = body.text().data();
  body.release(&a);
  ASSERT_TRUE(body.claim(&a));
  EXPECT_EQ(body.text().data(), data);  // the same block: no allocation
  body.text().assign(PostBody::kKeep + 1, 'x');
  body.release(&a);
  ASSERT_TRUE(body.claim(&a));
  EXPECT_LE(body.text().capacity(), PostBody::kKeep);
}

}  // namespace
}  // namespace daheim::transport
