// Strict reading of the JSON config (cJSON): each object's members are taken
// by name, so the rest can be reported as unknown; a bad value throws a
// Failure naming its dotted key. Used only while loading the file.
#pragma once

#include <cjson/cJSON.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace daheim::app {

struct Failure {
  std::string key;
  std::string message;
};

// Reads the members of one JSON object, remembering which were consumed so
// that the rest can be reported as unknown.
class ObjectReader {
 public:
  ObjectReader(const cJSON* object, std::string prefix)
      : object_(object), prefix_(std::move(prefix)) {}

  std::string key(const char* name) const { return prefix_.empty() ? name : prefix_ + "." + name; }

  bool has(const char* name) const {
    return cJSON_GetObjectItemCaseSensitive(object_, name) != nullptr;
  }

  const cJSON* take(const char* name) {
    seen_.insert(name);
    return cJSON_GetObjectItemCaseSensitive(object_, name);
  }

  void integer(const char* name, int64_t min, int64_t max, int64_t& out) {
    const cJSON* v = take(name);
    if (!v) return;
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1e300;
    // Range first: casting a double beyond int64_t is undefined (found by tests/fuzz/config_fuzz).
    if (!cJSON_IsNumber(v) || !(d >= static_cast<double>(min) && d <= static_cast<double>(max)) ||
        std::abs(d) >= 9e18 || d != static_cast<double>(static_cast<int64_t>(d)))
      throw Failure{key(name), "expected an integer from " + std::to_string(min) + " to " +
                                   std::to_string(max)};
    out = static_cast<int64_t>(d);
  }

  template <typename T>
  void integer_as(const char* name, int64_t min, int64_t max, T& out) {
    int64_t v = static_cast<int64_t>(out);
    integer(name, min, max, v);
    out = static_cast<T>(v);
  }

  void millis(const char* name, int64_t min, std::chrono::milliseconds& out) {
    int64_t v = out.count();
    integer(name, min, std::numeric_limits<int32_t>::max(), v);
    out = std::chrono::milliseconds(v);
  }

  void string(const char* name, std::string& out) {
    const cJSON* v = take(name);
    if (!v) return;
    if (!cJSON_IsString(v)) throw Failure{key(name), "expected a string"};
    out = v->valuestring;
  }

  void boolean(const char* name, bool& out) {
    const cJSON* v = take(name);
    if (!v) return;
    if (!cJSON_IsBool(v)) throw Failure{key(name), "expected true or false"};
    out = cJSON_IsTrue(v);
  }

  const cJSON* object(const char* name) {
    const cJSON* v = take(name);
    if (v && !cJSON_IsObject(v)) throw Failure{key(name), "expected an object"};
    return v;
  }

  void finish() const {
    for (const cJSON* c = object_->child; c; c = c->next)
      if (!seen_.count(c->string)) throw Failure{key(c->string), "unknown key"};
  }

 private:
  const cJSON* object_;
  std::string prefix_;
  std::set<std::string> seen_;
};

inline std::vector<std::string> string_list(ObjectReader& r, const char* name,
                                            std::vector<std::string> fallback) {
  const cJSON* v = r.take(name);
  if (!v) return fallback;
  if (!cJSON_IsArray(v)) throw Failure{r.key(name), "expected a list of strings"};
  std::vector<std::string> out;
  const cJSON* e;
  cJSON_ArrayForEach(e, v) {
    if (!cJSON_IsString(e)) throw Failure{r.key(name), "expected a list of strings"};
    out.emplace_back(e->valuestring);
  }
  return out;
}

// Each element an object read with `fill(reader)`; keys like "name[2].x".
template <typename Entry, typename Fill>
std::vector<Entry> object_list(ObjectReader& r, const char* name, Fill fill) {
  const cJSON* v = r.take(name);
  std::vector<Entry> out;
  if (!v) return out;
  if (!cJSON_IsArray(v)) throw Failure{r.key(name), "expected a list of objects"};
  int i = 0;
  const cJSON* e;
  cJSON_ArrayForEach(e, v) {
    std::string key = r.key(name) + "[" + std::to_string(i++) + "]";
    if (!cJSON_IsObject(e)) throw Failure{key, "expected an object"};
    ObjectReader er(e, key);
    out.push_back(fill(er));
    er.finish();
  }
  return out;
}

}  // namespace daheim::app
