#include "engineio/header_list.hpp"

#include <gtest/gtest.h>

#include <string>

namespace daheim::engineio {
namespace {

TEST(HeaderList, KeepsOrderNamesAndValuesIncludingEmptyOnes) {
  HeaderList h;
  EXPECT_TRUE(h.empty());
  h.add("host", "127.0.0.1:3000");
  h.add("x-empty", "");
  h.add("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.at(0), (HeaderList::Entry{"host", "127.0.0.1:3000"}));
  EXPECT_EQ(h.at(1), (HeaderList::Entry{"x-empty", ""}));
  EXPECT_EQ(h.at(2), (HeaderList::Entry{"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="}));
}

TEST(HeaderList, FindsTheFirstOfANameAndNothingElse) {
  HeaderList h{{"cookie", "a=1"}, {"x-empty", ""}, {"cookie", "b=2"}};
  EXPECT_EQ(h.find("cookie"), "a=1");
  ASSERT_TRUE(h.find("x-empty"));
  EXPECT_EQ(*h.find("x-empty"), "");
  EXPECT_FALSE(h.find("cook"));
  EXPECT_FALSE(h.find("cookies"));
  EXPECT_FALSE(HeaderList().find("cookie"));
}

TEST(HeaderList, ManyLongHeadersRoundTrip) {
  HeaderList h;
  for (int i = 0; i < 100; ++i) h.add("x-h" + std::to_string(i), std::string(i * 7, 'v'));
  h.shrink();
  for (int i = 0; i < 100; ++i) {
    auto [name, value] = h.at(i);
    EXPECT_EQ(name, "x-h" + std::to_string(i));
    EXPECT_EQ(value.size(), static_cast<std::size_t>(i * 7));
    EXPECT_EQ(h.find(name), value);
  }
}

// Query values are decoded: any byte may appear, NUL and bytes >= 0x80 too, and
// a string of 128 bytes or more takes a two-byte length.
TEST(HeaderList, AnyByteAndLongStringsRoundTrip) {
  using namespace std::string_view_literals;
  HeaderList h;
  std::string big(300, 'v');
  big[0] = '\0';
  h.add("a\0b"sv, "\0\x80\xff"sv);
  h.add(std::string(128, 'n'), big);
  h.add("", "");
  h.add("last", "x");
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.at(0), (HeaderList::Entry{"a\0b"sv, "\0\x80\xff"sv}));
  EXPECT_EQ(h.at(1).first, std::string(128, 'n'));
  EXPECT_EQ(h.at(1).second, big);
  EXPECT_EQ(h.at(2), (HeaderList::Entry{"", ""}));
  EXPECT_EQ(h.find("last"), "x");
  EXPECT_FALSE(h.find("a"));
}

}  // namespace
TEST(PairsView, ReadsAQueryTextSplitAtAmpersandAndTheFirstEquals) {
  PairsView v = PairsView::query_text("EIO=4&transport=websocket&t=a=b&=&x=", 5);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_EQ(v.at(0), (PairsView::Entry{"EIO", "4"}));
  EXPECT_EQ(v.at(1), (PairsView::Entry{"transport", "websocket"}));
  EXPECT_EQ(v.at(2), (PairsView::Entry{"t", "a=b"}));
  EXPECT_EQ(v.at(3), (PairsView::Entry{"", ""}));
  EXPECT_EQ(v.at(4), (PairsView::Entry{"x", ""}));
  EXPECT_EQ(v.find("transport"), "websocket");
  EXPECT_EQ(v.find("x"), "");
  EXPECT_FALSE(v.find("EIO=4"));
  EXPECT_FALSE(v.find("y"));
}

TEST(PairsView, InQueryTextOnlyWhereTheTextGivesThePairsBack) {
  HeaderList two{{"EIO", "4"}, {"t", "a=b"}};
  EXPECT_TRUE(PairsView::in_query_text(two.view(), "EIO=4&t=a=b"));
  EXPECT_FALSE(PairsView::in_query_text(two.view(), "EIO=4&t=a=b&"));
  EXPECT_FALSE(PairsView::in_query_text(two.view(), "EIO=4"));
  EXPECT_FALSE(PairsView::in_query_text(two.view(), "EIO=4&t=a=c"));
  EXPECT_FALSE(PairsView::in_query_text(two.view(), "EIO=4;t=a=b"));
  EXPECT_TRUE(PairsView::in_query_text(HeaderList{}.view(), ""));
  EXPECT_FALSE(PairsView::in_query_text(HeaderList{}.view(), "a=1"));
  EXPECT_FALSE(PairsView::in_query_text(HeaderList{{"a", "1&b=2"}}.view(), "a=1&b=2"));
  EXPECT_FALSE(PairsView::in_query_text(HeaderList{{"a=1", "2"}}.view(), "a=1=2"));
  EXPECT_FALSE(PairsView::in_query_text(HeaderList{{"a&b", ""}}.view(), "a&b="));
}

}  // namespace daheim::engineio
