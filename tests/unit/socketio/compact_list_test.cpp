// CompactList: a list in one pointer, allocated while it holds an item.
#include "socketio/compact_list.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace daheim::socketio {
namespace {

struct Item {
  void* p;
  uint32_t n;
};

std::vector<uint32_t> values(const CompactList<Item>& list) {
  std::vector<uint32_t> out;
  for (const Item& i : list) out.push_back(i.n);
  return out;
}

TEST(CompactList, IsOnePointerAndEmptyWithoutABlock) {
  static_assert(sizeof(CompactList<Item>) == sizeof(void*));
  CompactList<Item> list;
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(list.allocated());
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.begin(), list.end());
}

TEST(CompactList, FirstPushAllocatesLastPopFrees) {
  CompactList<Item> list;
  list.push_back({nullptr, 1});
  EXPECT_TRUE(list.allocated());
  EXPECT_EQ(values(list), (std::vector<uint32_t>{1}));
  list.pop_back();
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(list.allocated());
  list.push_back({nullptr, 2});  // allocates again
  EXPECT_EQ(values(list), (std::vector<uint32_t>{2}));
}

TEST(CompactList, GrowsKeepingItsItemsInOrder) {
  CompactList<Item> list;
  for (uint32_t i = 0; i < 37; ++i) list.push_back({&list, i});
  ASSERT_EQ(list.size(), 37u);
  uint32_t expected = 0;
  for (const Item& i : list) {
    EXPECT_EQ(i.n, expected++);
    EXPECT_EQ(i.p, &list);
  }
  EXPECT_EQ(list.back().n, 36u);
  list.back().n = 99;  // items are writable in place
  EXPECT_EQ(list.back().n, 99u);
  while (list.size() > 1) list.pop_back();
  EXPECT_TRUE(list.allocated());
  EXPECT_EQ(values(list), (std::vector<uint32_t>{0}));
  list.pop_back();
  EXPECT_FALSE(list.allocated());
}

// An item of the list itself pushed while the list grows: the growth frees
// the block the item was in (with push_back taking a reference, ASan reports a
// heap-use-after-free here: the sanitize leg runs this test).
TEST(CompactList, PushesAnItemOfItsOwnWhileGrowing) {
  CompactList<Item> list;
  list.push_back({&list, 7});
  for (int i = 0; i < 4; ++i) list.push_back(list.back());  // grows 1 -> 2 -> 4 -> 8
  EXPECT_EQ(values(list), (std::vector<uint32_t>(5, 7)));
  EXPECT_EQ(list.back().p, &list);
}

TEST(CompactList, MovesAndClears) {
  CompactList<Item> a;
  a.push_back({nullptr, 7});
  CompactList<Item> b(std::move(a));
  EXPECT_FALSE(a.allocated());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(values(b), (std::vector<uint32_t>{7}));
  CompactList<Item> c;
  c.push_back({nullptr, 8});
  c = std::move(b);
  EXPECT_EQ(values(c), (std::vector<uint32_t>{7}));
  c.clear();
  EXPECT_TRUE(c.empty());
  c.clear();  // idempotent
}

}  // namespace
}  // namespace daheim::socketio
