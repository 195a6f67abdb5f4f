// /healthz and /metrics (Prometheus text exposition format 0.0.4).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/server.hpp"
#include "transport/server.hpp"

namespace daheim::ops {

// Appends Prometheus text: a family's HELP and TYPE lines once, then its
// samples. Label values are escaped.
class MetricsWriter {
 public:
  struct Label {
    std::string_view name;
    std::string_view value;
  };
  using Labels = std::initializer_list<Label>;

  explicit MetricsWriter(std::string& out) : out_(out) {}
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, double value, std::string_view label = {},
              std::string_view label_value = {});
  void sample(std::string_view name, double value, Labels labels);
  // One histogram's series: NAME_bucket for each upper bound in `le` and
  // +Inf (cumulative), NAME_sum and NAME_count. `buckets` holds the count
  // per bucket (not cumulative), the +Inf bucket last: one more than `le`.
  void histogram(std::string_view name, Labels labels, std::span<const std::string_view> le,
                 std::span<const uint64_t> buckets, double sum);
  // A family of one sample without labels.
  template <class Number>
  void counter(std::string_view name, std::string_view help, Number value) {
    single(name, "counter", help, static_cast<double>(value));
  }
  template <class Number>
  void gauge(std::string_view name, std::string_view help, Number value) {
    single(name, "gauge", help, static_cast<double>(value));
  }
  // A family with one label: a sample for each of its values.
  struct Count {
    std::string_view label_value;
    uint64_t value;
  };
  void counter(std::string_view name, std::string_view help, std::string_view label,
               std::initializer_list<Count> counts) {
    by_label(name, "counter", help, label, counts);
  }
  void gauge(std::string_view name, std::string_view help, std::string_view label,
             std::initializer_list<Count> counts) {
    by_label(name, "gauge", help, label, counts);
  }

 private:
  void single(std::string_view name, std::string_view type, std::string_view help, double value);
  void by_label(std::string_view name, std::string_view type, std::string_view help,
                std::string_view label, std::initializer_list<Count> counts);

  std::string& out_;
};

class Monitoring {
 public:
  using Source = std::function<void(MetricsWriter&)>;
  Monitoring(const transport::Server& server, const transport::EngineIoEndpoint& endpoint,
             const socketio::Server& io);
  // More metric families (auth, plugins), appended in order.
  void add_source(Source source) { sources_.push_back(std::move(source)); }
  // One more sample of daheim_limit_refusals_total{limit=`key`}.
  void add_limit(std::string key, std::function<uint64_t()> count) {
    limits_.emplace_back(std::move(key), std::move(count));
  }
  // More /healthz members: appends `,"name":value` to `fields`; false makes
  // the status "degraded" (still 200: the node serves its own clients).
  using Health = std::function<bool(std::string& fields)>;
  void add_health(Health health) { health_.push_back(std::move(health)); }
  void install(transport::Server& server);
  std::string metrics_text() const;

 private:
  const transport::Server& server_;
  const transport::EngineIoEndpoint& endpoint_;
  const socketio::Server& io_;
  std::vector<Source> sources_;
  std::vector<std::pair<std::string, std::function<uint64_t()>>> limits_;
  std::vector<Health> health_;
};

}  // namespace daheim::ops
