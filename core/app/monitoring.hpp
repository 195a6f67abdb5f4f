// /healthz and /metrics (Prometheus text exposition format 0.0.4).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/server.hpp"
#include "transport/server.hpp"

namespace daheim::app {

// Appends Prometheus text for one metric family.
class MetricsWriter {
 public:
  explicit MetricsWriter(std::string& out) : out_(out) {}
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, double value, std::string_view label = {},
              std::string_view label_value = {});

 private:
  std::string& out_;
};

class Monitoring {
 public:
  using Source = std::function<void(MetricsWriter&)>;
  Monitoring(const transport::Server& server, const transport::EngineIoEndpoint& endpoint,
             const socketio::Server& io);
  // More metric families (auth, plugins), appended in order.
  void add_source(Source source) { sources_.push_back(std::move(source)); }
  void install(transport::Server& server);
  std::string metrics_text() const;

 private:
  const transport::Server& server_;
  const transport::EngineIoEndpoint& endpoint_;
  const socketio::Server& io_;
  std::vector<Source> sources_;
};

}  // namespace daheim::app
