#include "engineio/handshake.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace daheim::engineio {
namespace {

using namespace std::string_view_literals;

TEST(Handshake, KeepsAddressUrlHeadersAndQueryInOneRecord) {
  Handshake h("127.0.0.2", "/socket.io/?EIO=4&transport=websocket",
              {{"host", "127.0.0.1:3000"}, {"upgrade", "websocket"}},
              {{"EIO", "4"}, {"transport", "websocket"}});
  EXPECT_EQ(h.address(), "127.0.0.2");
  EXPECT_EQ(h.url(), "/socket.io/?EIO=4&transport=websocket");
  ASSERT_EQ(h.headers().size(), 2u);
  EXPECT_EQ(h.headers().at(0), (PairsView::Entry{"host", "127.0.0.1:3000"}));
  EXPECT_EQ(h.headers().at(1), (PairsView::Entry{"upgrade", "websocket"}));
  ASSERT_EQ(h.query().size(), 2u);
  EXPECT_EQ(h.query().at(0), (PairsView::Entry{"EIO", "4"}));
  EXPECT_EQ(h.query().at(1), (PairsView::Entry{"transport", "websocket"}));
  EXPECT_EQ(h.header("upgrade"), "websocket");
  EXPECT_EQ(h.query_param("EIO"), "4");
  EXPECT_FALSE(h.header("EIO"));  // headers and query are apart
  EXPECT_FALSE(h.query_param("upgrade"));
  // Each string after a one-byte length: 9 + 37 for address and URL, 4 + 14
  // + 7 + 9 for the headers, plus 6 lengths; the query is read from the URL.
  EXPECT_EQ(h.record_size(), 9u + 37 + 4 + 14 + 7 + 9 + 6);
}

// The URL is written from the decoded pairs; where a name or value holds
// '&' or '=' the URL cannot give them back, and they are kept apart.
TEST(Handshake, QueryPairsTheUrlCannotGiveBackAreKeptApart) {
  struct Case {
    std::string url;
    HeaderList query;
    bool in_url;
  };
  std::vector<Case> cases = {
      {"/s/?a=1&b=x=y&c=", {{"a", "1"}, {"b", "x=y"}, {"c", ""}}, true},
      {"/s/?=&a=", {{"", ""}, {"a", ""}}, true},
      {"/s/?a=1&2&b=3", {{"a", "1&2"}, {"b", "3"}}, false},
      {"/s/?a=b=1", {{"a=b", "1"}}, false},
      {"/s/?x&y=1", {{"x&y", "1"}}, false},
      {"/s/?a=1&b=2", {{"a", "1"}}, false},  // not the same pairs
      {"/s/?a=1", {{"a", "1"}, {"b", "2"}}, false},
      {"/s/", {{"a", "1"}}, false},
  };
  for (const Case& c : cases) {
    Handshake h("::1", c.url, {}, c.query);
    std::size_t base = 1 + 3 + 1 + c.url.size();
    EXPECT_EQ(h.record_size(), c.in_url ? base : base + c.query.bytes().size()) << c.url;
    EXPECT_EQ(h.url(), c.url);
    ASSERT_EQ(h.query().size(), c.query.size()) << c.url;
    for (std::size_t i = 0; i < c.query.size(); ++i)
      EXPECT_EQ(h.query().at(i), c.query.at(i)) << c.url << " pair " << i;
    Handshake copy(h);
    EXPECT_EQ(copy.query_param(c.query.at(0).first), c.query.at(0).second) << c.url;
  }
}

TEST(Handshake, EmptyReadsAsEmpty) {
  Handshake h;
  EXPECT_EQ(h.address(), "");
  EXPECT_EQ(h.url(), "");
  EXPECT_TRUE(h.headers().empty());
  EXPECT_TRUE(h.query().empty());
  EXPECT_FALSE(h.header("host"));
  EXPECT_FALSE(h.query_param("EIO"));
  EXPECT_EQ(h.record_size(), 0u);
}

TEST(Handshake, DecodedQueryValuesMayHoldAnyByte) {
  std::string big(200, 'x');
  HeaderList query{{"a\0b"sv, "\0\x80\xff"sv}, {"big", big}, {"", ""}};
  Handshake h("::1", std::string(300, '/'), {}, query);
  EXPECT_EQ(h.address(), "::1");
  EXPECT_EQ(h.url(), std::string(300, '/'));
  EXPECT_TRUE(h.headers().empty());
  ASSERT_EQ(h.query().size(), 3u);
  EXPECT_EQ(h.query().at(0), (PairsView::Entry{"a\0b"sv, "\0\x80\xff"sv}));
  EXPECT_EQ(h.query_param("big"), big);
  EXPECT_EQ(h.query().at(2), (PairsView::Entry{"", ""}));
}

TEST(Handshake, CopiesAndMovesKeepTheRecord) {
  Handshake a("10.0.0.1", "/x?y=1", {{"origin", "http://o"}}, {{"y", "1"}});
  a.secure = true;
  a.issued_unix_ms = 1700000000123;
  Handshake b(a);
  EXPECT_NE(b.url().data(), a.url().data());  // its own record
  Handshake c;
  c = b;
  Handshake d(std::move(b));
  for (const Handshake* h : {&a, &c, &d}) {
    EXPECT_EQ(h->address(), "10.0.0.1");
    EXPECT_EQ(h->url(), "/x?y=1");
    EXPECT_EQ(h->header("origin"), "http://o");
    EXPECT_EQ(h->query_param("y"), "1");
    EXPECT_TRUE(h->secure);
    EXPECT_EQ(h->issued_unix_ms, 1700000000123);
  }
}

// What an idle session keeps of its handshake: 40 bytes beside the one block.
TEST(Handshake, StaysSmall) {
  EXPECT_LE(sizeof(Handshake), 40u);
}

}  // namespace
}  // namespace daheim::engineio
