#include "engineio/id_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace daheim::engineio {
namespace {

struct Item {
  std::string name;
  std::string_view id() const { return name; }
};

std::vector<Item> items(std::size_t n) {
  std::vector<Item> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back({"id-" + std::to_string(i)});
  return out;
}

TEST(IdIndex, FindsWhatWasInsertedAndNothingElse) {
  IdIndex<Item> index;
  EXPECT_EQ(index.find("id-0"), nullptr);
  std::vector<Item> all = items(1000);
  for (Item& item : all) ASSERT_TRUE(index.insert(item));
  EXPECT_EQ(index.size(), 1000u);
  for (Item& item : all) EXPECT_EQ(index.find(item.name), &item);
  EXPECT_EQ(index.find("id-1000"), nullptr);
  EXPECT_EQ(index.find(""), nullptr);
}

TEST(IdIndex, RefusesASecondEntryWithTheSameIdAndKeepsTheFirst) {
  IdIndex<Item> index;
  Item first{"same"};
  Item second{"same"};
  ASSERT_TRUE(index.insert(first));
  EXPECT_FALSE(index.insert(second));
  EXPECT_EQ(index.size(), 1u);
  // Erasing the refused one leaves the indexed one.
  index.erase(second);
  EXPECT_EQ(index.find("same"), &first);
  index.erase(first);
  EXPECT_EQ(index.find("same"), nullptr);
  EXPECT_EQ(index.size(), 0u);
}

// Erasing in random order moves colliding entries back: every remaining one
// is still found, every erased one is gone, at every step.
TEST(IdIndex, EraseKeepsEveryOtherEntryReachable) {
  IdIndex<Item> index;
  std::vector<Item> all = items(600);
  for (Item& item : all) ASSERT_TRUE(index.insert(item));
  std::vector<std::size_t> order(all.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(19));
  std::vector<bool> gone(all.size(), false);
  for (std::size_t step = 0; step < order.size(); ++step) {
    index.erase(all[order[step]]);
    gone[order[step]] = true;
    ASSERT_EQ(index.size(), all.size() - step - 1);
    if (step % 50 != 0 && step + 1 != order.size()) continue;
    for (std::size_t i = 0; i < all.size(); ++i)
      ASSERT_EQ(index.find(all[i].name), gone[i] ? nullptr : &all[i]) << "step " << step;
  }
  // Empty again, and usable again.
  ASSERT_TRUE(index.insert(all[7]));
  EXPECT_EQ(index.find("id-7"), &all[7]);
}

TEST(IdIndex, EraseOfAnAbsentItemChangesNothing) {
  IdIndex<Item> index;
  std::vector<Item> all = items(20);
  Item stranger{"id-3"};
  index.erase(stranger);  // empty index
  for (Item& item : all) ASSERT_TRUE(index.insert(item));
  index.erase(stranger);
  EXPECT_EQ(index.size(), 20u);
  for (Item& item : all) EXPECT_EQ(index.find(item.name), &item);
}

TEST(IdIndex, ForEachVisitsEveryEntryOnce) {
  IdIndex<Item> index;
  int calls = 0;
  index.for_each([&](Item&) { ++calls; });
  EXPECT_EQ(calls, 0);
  std::vector<Item> all = items(100);
  for (Item& item : all) ASSERT_TRUE(index.insert(item));
  for (std::size_t i = 0; i < all.size(); i += 3) index.erase(all[i]);
  std::vector<const Item*> seen;
  index.for_each([&](Item& item) { seen.push_back(&item); });
  std::vector<const Item*> expected;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (i % 3 != 0) expected.push_back(&all[i]);
  std::sort(seen.begin(), seen.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace daheim::engineio
