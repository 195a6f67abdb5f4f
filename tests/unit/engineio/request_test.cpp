#include <gtest/gtest.h>

#include "engineio/request.hpp"

namespace daheim::engineio {
namespace {

struct Req {
  Method method = Method::Get;
  std::string eio = "4", transport = "polling", sid, origin;
  bool has_eio = true, has_transport = true, has_sid = false, has_origin = false;
  bool upgrade = false;

  RequestInfo info() const {
    RequestInfo r;
    r.method = method;
    r.eio = has_eio ? &eio : nullptr;
    r.transport = has_transport ? &transport : nullptr;
    r.sid = has_sid ? &sid : nullptr;
    r.origin = has_origin ? &origin : nullptr;
    r.websocket_upgrade = upgrade;
    return r;
  }
};

std::optional<ErrorCode> verify(const Req& r, SessionLookup lookup = {},
                                TransportsEnabled enabled = {}) {
  return verify_request(r.info(), enabled, lookup);
}

TEST(Request, ErrorBodiesAndStatusesMatchTheReference) {
  EXPECT_EQ(error_body(ErrorCode::UnknownTransport), R"({"code":0,"message":"Transport unknown"})");
  EXPECT_EQ(error_body(ErrorCode::UnknownSid), R"({"code":1,"message":"Session ID unknown"})");
  EXPECT_EQ(error_body(ErrorCode::BadHandshakeMethod),
            R"({"code":2,"message":"Bad handshake method"})");
  EXPECT_EQ(error_body(ErrorCode::BadRequest), R"({"code":3,"message":"Bad request"})");
  EXPECT_EQ(error_body(ErrorCode::Forbidden), R"({"code":4,"message":"Forbidden"})");
  EXPECT_EQ(error_body(ErrorCode::UnsupportedProtocolVersion),
            R"({"code":5,"message":"Unsupported protocol version"})");
  EXPECT_EQ(error_status(ErrorCode::Forbidden), 403);
  EXPECT_EQ(error_status(ErrorCode::BadRequest), 400);
}

TEST(Request, HandshakeAccepted) {
  EXPECT_EQ(verify(Req{}), std::nullopt);
  Req ws;
  ws.transport = "websocket";
  ws.upgrade = true;
  EXPECT_EQ(verify(ws), std::nullopt);
}

TEST(Request, Eio3OnlyWithAllowEio3) {
  Req r;
  r.eio = "3";
  EXPECT_EQ(verify(r), ErrorCode::UnsupportedProtocolVersion);
  EXPECT_EQ(verify(r, {}, {true, true, true}), std::nullopt);
  r.eio = "2";
  EXPECT_EQ(verify(r, {}, {true, true, true}), ErrorCode::UnsupportedProtocolVersion);
  r.eio = "4";
  EXPECT_EQ(verify(r, {}, {true, true, true}), std::nullopt);
}

TEST(Request, TransportIsCheckedFirst) {
  Req r;
  r.has_transport = false;
  r.has_eio = false;
  r.method = Method::Post;
  EXPECT_EQ(verify(r), ErrorCode::UnknownTransport);
  r.has_transport = true;
  r.transport = "abc";
  EXPECT_EQ(verify(r), ErrorCode::UnknownTransport);
  Req disabled;
  EXPECT_EQ(verify(disabled, {}, {false, true}), ErrorCode::UnknownTransport);
}

TEST(Request, InvalidOriginCharactersAreABadRequest) {
  Req r;
  r.has_origin = true;
  r.origin = "https://a.example\x01";
  EXPECT_EQ(verify(r), ErrorCode::BadRequest);
  r.origin = "https://a.example";
  EXPECT_EQ(verify(r), std::nullopt);
}

TEST(Request, HandshakeRules) {
  Req post;
  post.method = Method::Post;
  EXPECT_EQ(verify(post), ErrorCode::BadHandshakeMethod);
  Req plain_ws;
  plain_ws.transport = "websocket";
  EXPECT_EQ(verify(plain_ws), ErrorCode::BadRequest);
  for (const char* bad : {"abc", "3", "5", ""}) {
    Req r;
    r.eio = bad;
    EXPECT_EQ(verify(r), ErrorCode::UnsupportedProtocolVersion) << bad;
  }
  Req missing;
  missing.has_eio = false;
  EXPECT_EQ(verify(missing), ErrorCode::UnsupportedProtocolVersion);
}

TEST(Request, SessionRules) {
  Req r;
  r.has_sid = true;
  r.sid = "abc";
  EXPECT_EQ(verify(r, {false, false}), ErrorCode::UnknownSid);
  EXPECT_EQ(verify(r, {true, false}), std::nullopt);
  // Polling on a session that upgraded to websocket.
  EXPECT_EQ(verify(r, {true, true}), ErrorCode::BadRequest);
  // Upgrade requests may name a polling session.
  Req up = r;
  up.transport = "websocket";
  up.upgrade = true;
  EXPECT_EQ(verify(up, {true, false}), std::nullopt);
  // A plain GET with transport=websocket for a polling session.
  Req mismatch = r;
  mismatch.transport = "websocket";
  EXPECT_EQ(verify(mismatch, {true, false}), ErrorCode::BadRequest);
  // With a sid, the method and EIO are not handshake-checked.
  Req post = r;
  post.method = Method::Post;
  post.has_eio = false;
  EXPECT_EQ(verify(post, {true, false}), std::nullopt);
}

}  // namespace
}  // namespace daheim::engineio
