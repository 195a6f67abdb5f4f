// Cross-check against an independent implementation: make_fixtures.mjs mints keys and tokens
// with the npm package `jsonwebtoken` (and node's crypto), and each manifest case becomes one
// test here. This file has the test program's main(): the cases are registered at run time.
//
// Environment (set by meson): AUTH_FIXTURE_SCRIPT (the .mjs), NODE (the node binary), NODE_PATH.
// When jsonwebtoken is not installed the cases are skipped, unless AUTH_REQUIRE_JSONWEBTOKEN=1.
#include <cJSON.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/key_store.hpp"
#include "auth/verifier.hpp"
#include "auth_test_util.hpp"

extern char** environ;

namespace daheim::auth {
namespace {

struct CjsonFree {
  void operator()(cJSON* p) const { cJSON_Delete(p); }
};

std::string str(const cJSON* obj, const char* name, const std::string& fallback = {}) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(item) ? std::string(item->valuestring) : fallback;
}

std::vector<std::string> strings(const cJSON* obj, const char* name) {
  std::vector<std::string> out;
  const cJSON* item;
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(obj, name)) {
    if (cJSON_IsString(item)) out.emplace_back(item->valuestring);
  }
  return out;
}

KeyConfig key_config(const cJSON* json) {
  KeyConfig config;
  const cJSON* item;
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(json, "hmac_secret_files")) {
    config.hmac_secret_files.push_back(
        {str(item, "path"), str(item, "alg", "HS256"), str(item, "kid")});
  }
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(json, "pem_files")) {
    config.pem_files.push_back({str(item, "path"), str(item, "alg"), str(item, "kid")});
  }
  config.jwks_files = strings(json, "jwks_files");
  return config;
}

struct Fixtures {
  std::filesystem::path dir;
  std::unique_ptr<cJSON, CjsonFree> manifest;
  int64_t now = 0;
  VerifyOptions options;
  std::map<std::string, std::shared_ptr<const KeyStore>> stores;
  std::map<std::string, std::string> store_errors;
};
Fixtures* fixtures = nullptr;

class TokenCase : public ::testing::Test {
 public:
  explicit TokenCase(const cJSON* c) : case_(c) {}
  void TestBody() override {
    std::string keyset = str(case_, "keyset", "main");
    ASSERT_TRUE(fixtures->stores.count(keyset)) << keyset << ": " << fixtures->store_errors[keyset];
    VerifyOptions options = fixtures->options;
    if (const cJSON* m = cJSON_GetObjectItemCaseSensitive(case_, "max_age_s"); cJSON_IsNumber(m)) {
      options.max_age_s = static_cast<int64_t>(m->valuedouble);
    }
    int64_t now = fixtures->now;
    if (const cJSON* n = cJSON_GetObjectItemCaseSensitive(case_, "now"); cJSON_IsNumber(n)) {
      now = static_cast<int64_t>(n->valuedouble);
    }
    Verifier verifier(fixtures->stores[keyset], options);
    std::string token = str(case_, "token");
    auto result = verifier.verify(token, now);
    std::string expected = str(case_, "expected");
    ASSERT_EQ(test::outcome(result), expected) << "token: " << token.substr(0, 400);
    if (expected != "ok") return;
    const User& user = std::get<User>(result);
    EXPECT_EQ(user.id, str(case_, "user_id", "alice"));
    EXPECT_EQ(user.role, str(case_, "role", "student"));
    if (const cJSON* k = cJSON_GetObjectItemCaseSensitive(case_, "kid"); cJSON_IsString(k)) {
      EXPECT_EQ(user.kid, k->valuestring);
    }
    if (const cJSON* e = cJSON_GetObjectItemCaseSensitive(case_, "expires_at"); cJSON_IsNumber(e)) {
      EXPECT_EQ(user.expires_at, static_cast<int64_t>(e->valuedouble));
    }
    std::string payload = token.substr(token.find('.') + 1);
    payload = payload.substr(0, payload.find('.'));
    EXPECT_EQ(user.claims_json, base64url_decode(payload).value_or("?"));
  }

 private:
  const cJSON* case_;
};

class KeyLoadError : public ::testing::Test {
 public:
  explicit KeyLoadError(const cJSON* c) : case_(c) {}
  void TestBody() override {
    std::string error;
    auto store =
        KeyStore::load(key_config(cJSON_GetObjectItemCaseSensitive(case_, "keyset")), error);
    ASSERT_FALSE(store.has_value());
    EXPECT_NE(error.find(str(case_, "error_contains")), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    // No secret file's content appears in any message.
    for (const auto& entry : std::filesystem::directory_iterator(fixtures->dir)) {
      if (entry.path().extension() != ".secret") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream content;
      content << in.rdbuf();
      std::string secret = content.str();
      while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
      EXPECT_EQ(error.find(secret), std::string::npos) << entry.path();
    }
  }

 private:
  const cJSON* case_;
};

class Unavailable : public ::testing::Test {
 public:
  Unavailable(std::string why, bool fail) : why_(std::move(why)), fail_(fail) {}
  void TestBody() override {
    if (fail_) FAIL() << why_;
    GTEST_SKIP() << why_;
  }

 private:
  std::string why_;
  bool fail_;
};

void register_unavailable(const std::string& why, bool fail) {
  ::testing::RegisterTest("Jsonwebtoken", "Fixtures", nullptr, nullptr, __FILE__, __LINE__,
                          [=]() -> ::testing::Test* { return new Unavailable(why, fail); });
}

// Runs node make_fixtures.mjs DIR; returns its exit status, -1 if it could not run, -2 if it
// took longer than a minute (then it is killed).
int run_node(const std::string& script, const std::string& dir) {
  const char* node_env = std::getenv("NODE");
  std::string node = node_env != nullptr && *node_env != '\0' ? node_env : "node";
  std::vector<char*> argv{node.data(), const_cast<char*>(script.c_str()),
                          const_cast<char*>(dir.c_str()), nullptr};
  pid_t pid;
  if (posix_spawnp(&pid, node.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -2;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void register_jsonwebtoken_tests() {
  const char* script = std::getenv("AUTH_FIXTURE_SCRIPT");
  const char* require = std::getenv("AUTH_REQUIRE_JSONWEBTOKEN");
  bool required = require != nullptr && std::string(require) == "1";
  if (script == nullptr) {
    register_unavailable("AUTH_FIXTURE_SCRIPT is not set (run through meson test)", required);
    return;
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "auth_fixtures_XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    register_unavailable("cannot create a temporary directory", true);
    return;
  }
  fixtures = new Fixtures;
  fixtures->dir = tmpl;
  int status = run_node(script, tmpl);
  if (status == 77) {
    register_unavailable(
        "the npm package jsonwebtoken is not installed: run `npm ci` in the source root "
        "(the cross-check against jsonwebtoken is skipped)",
        required);
    return;
  }
  if (status != 0) {
    register_unavailable(status == -2
                             ? std::string("make_fixtures.mjs took longer than 60 s")
                             : "make_fixtures.mjs failed with status " + std::to_string(status),
                         true);
    return;
  }
  std::ifstream in(fixtures->dir / "manifest.json");
  std::stringstream text;
  text << in.rdbuf();
  fixtures->manifest.reset(cJSON_Parse(text.str().c_str()));
  const cJSON* m = fixtures->manifest.get();
  if (m == nullptr) {
    register_unavailable("manifest.json is not JSON", true);
    return;
  }
  fixtures->now = static_cast<int64_t>(cJSON_GetObjectItemCaseSensitive(m, "now")->valuedouble);
  const cJSON* opts = cJSON_GetObjectItemCaseSensitive(m, "options");
  fixtures->options.issuers = strings(opts, "issuers");
  fixtures->options.audiences = strings(opts, "audiences");
  fixtures->options.leeway_s =
      static_cast<int64_t>(cJSON_GetObjectItemCaseSensitive(opts, "leeway_s")->valuedouble);

  const cJSON* keyset;
  cJSON_ArrayForEach(keyset, cJSON_GetObjectItemCaseSensitive(m, "keysets")) {
    std::string error;
    auto store = KeyStore::load(key_config(keyset), error);
    if (store) {
      fixtures->stores[keyset->string] = std::make_shared<const KeyStore>(std::move(*store));
    } else {
      fixtures->store_errors[keyset->string] = error;
    }
  }
  ::testing::RegisterTest("Jsonwebtoken", "MainKeysetLoadsEveryKey", nullptr, nullptr, __FILE__,
                          __LINE__, []() -> ::testing::Test* {
                            struct T : ::testing::Test {
                              void TestBody() override {
                                ASSERT_TRUE(fixtures->stores.count("main"))
                                    << fixtures->store_errors["main"];
                                // 4 secrets + 9 PEM + 6 JWKS (one "enc" key skipped)
                                EXPECT_EQ(fixtures->stores["main"]->keys().size(), 19u);
                              }
                            };
                            return new T;
                          });
  const cJSON* c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "cases")) {
    ::testing::RegisterTest("JsonwebtokenToken", str(c, "name").c_str(), nullptr, nullptr, __FILE__,
                            __LINE__, [c]() -> ::testing::Test* { return new TokenCase(c); });
  }
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "load_errors")) {
    ::testing::RegisterTest("JsonwebtokenKeyError", str(c, "name").c_str(), nullptr, nullptr,
                            __FILE__, __LINE__,
                            [c]() -> ::testing::Test* { return new KeyLoadError(c); });
  }
}

}  // namespace
}  // namespace daheim::auth

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  daheim::auth::register_jsonwebtoken_tests();
  int rc = RUN_ALL_TESTS();
  if (daheim::auth::fixtures != nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(daheim::auth::fixtures->dir, ec);
    delete daheim::auth::fixtures;
  }
  return rc;
}
