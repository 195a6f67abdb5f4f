#include "ops/monitoring.hpp"

#include <dirent.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cstdio>

#include "socketio/in_memory_session_store.hpp"
#include "socketio/namespace.hpp"
#include "socketio/socket.hpp"

namespace daheim::ops {
namespace {

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// name="value",... (no braces)
std::string label_text(MetricsWriter::Labels labels) {
  std::string out;
  for (const MetricsWriter::Label& l : labels) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}=\"{}\"", l.name, escape_label(l.value));
  }
  return out;
}

double resident_bytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  int n = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) : 0;
}

double open_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return 0;
  double n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;  // the directory stream itself
}

// engineio.handshakesPerSecond: refusals are in daheim_limit_refusals_total.
void write_handshake_budget(MetricsWriter& w, const transport::HandshakeBudget& budget) {
  w.counter("daheim_engineio_handshakes_admitted_total",
            "New Engine.IO sessions the handshake budget admitted (at once or after waiting).",
            budget.stats().admitted);
  w.counter("daheim_engineio_handshakes_waited_total",
            "Handshakes held over engineio.handshakesPerSecond before their answer.",
            budget.stats().waited);
  w.gauge("daheim_engineio_handshakes_waiting", "Handshakes waiting for the handshake budget now.",
          budget.waiting());
}

void write_engineio(MetricsWriter& w, const transport::Server& server,
                    const transport::EngineIoEndpoint& endpoint) {
  const auto& st = endpoint.stats();
  w.gauge("daheim_connections", "Open TCP connections.", server.connection_count());
  auto [polling, websocket] = endpoint.sessions_by_transport();
  w.gauge("daheim_engineio_sessions", "Open Engine.IO sessions by transport.", "transport",
          {{"polling", polling}, {"websocket", websocket}});
  w.counter("daheim_engineio_sessions_opened_total", "Engine.IO sessions opened.",
            st.sessions_opened);
  w.counter("daheim_engineio_messages_total",
            "WebSocket messages and polling requests with data, by direction.", "direction",
            {{"in", st.messages_in}, {"out", st.messages_out}});
  w.counter("daheim_engineio_websocket_writes_total",
            "Writes of WebSocket frames to sockets (frames queued in one loop turn share one).",
            st.ws_writes);
  w.counter("daheim_engineio_websocket_partial_writes_total",
            "WebSocket writes the socket did not take whole (the rest waits for it to drain).",
            st.ws_partial_writes);
  w.counter("daheim_engineio_bytes_total", "Payload bytes, by direction.", "direction",
            {{"in", st.bytes_in}, {"out", st.bytes_out}});
  w.counter("daheim_slow_consumer_disconnects_total",
            "Sessions closed for queueing more than maxBufferedBytes (or dropped first when all "
            "together passed maxBufferedBytesTotal).",
            st.slow_consumer_closes);
  w.gauge("daheim_engineio_buffered_bytes",
          "Bytes queued for all clients together (engineio.maxBufferedBytesTotal bounds it).",
          endpoint.buffered_bytes());
  w.gauge("daheim_engineio_addresses_tracked",
          "Client addresses the per-address limits keep an entry for: a connection or session "
          "open, or handshakes not yet paid back (forgotten within two refill times).",
          endpoint.address_limits().tracked());
  write_handshake_budget(w, endpoint.handshake_budget());
}

void write_socketio(MetricsWriter& w, const socketio::Server& io) {
  w.family("daheim_socketio_sockets", "gauge", "Connected Socket.IO sockets by namespace.");
  std::size_t pending = 0;
  io.for_each_namespace([&](const socketio::Namespace& nsp) {
    w.sample("daheim_socketio_sockets", static_cast<double>(nsp.size()), "namespace", nsp.name());
    for (const socketio::Socket* s : nsp.fetch_sockets()) pending += s->pending_acks();
  });
  w.gauge("daheim_socketio_acks_pending", "Server-to-client acks awaiting an answer.", pending);
  w.counter("daheim_socketio_volatile_dropped_total",
            "Volatile packets dropped because the transport could not take them.",
            io.stats().volatile_dropped);
}

void write_recovery(MetricsWriter& w, const socketio::Server& io) {
  const auto* store = dynamic_cast<const socketio::InMemorySessionStore*>(io.session_store());
  if (store == nullptr) return;
  const auto& st = store->stats();
  w.gauge("daheim_recovery_sessions", "Disconnected sessions kept for recovery.",
          store->session_count());
  w.gauge("daheim_recovery_log_events", "Events in the recovery log.", store->log_size());
  w.gauge("daheim_recovery_log_bytes",
          "Approximate memory of the recovery log (frames, rooms, entries).", store->log_bytes());
  w.counter("daheim_recovery_logged_total", "Events given an offset and logged.", st.logged);
  w.counter("daheim_recovery_log_dropped_total", "Logged events dropped by age, count or bytes.",
            st.log_dropped);
  w.counter("daheim_recovery_sessions_saved_total",
            "Sessions saved when their socket left recoverably.", st.saved);
  w.counter("daheim_recovery_sessions_dropped_total", "Saved sessions dropped unused, by reason.",
            "reason", {{"expired", st.expired}, {"max_sessions", st.evicted}});
  w.counter("daheim_recovery_restores_total", "Recovery attempts, by result.", "result",
            {{"restored", st.restored},
             {"unknown_session", st.restore_unknown},
             {"offset_not_in_log", st.restore_bad_offset}});
}

// One family for every limit, labelled with its config key.
void write_limits(MetricsWriter& w, const transport::Server& server,
                  const transport::EngineIoEndpoint& endpoint, const socketio::Server& io) {
  const socketio::Server::Stats& st = io.stats();
  w.family("daheim_limit_refusals_total", "counter",
           "Requests refused (or clients dropped) by a configured limit, by limit.");
  auto sample = [&](uint64_t n, std::string_view key) {
    w.sample("daheim_limit_refusals_total", static_cast<double>(n), "limit", key);
  };
  sample(server.header_overflows(), "engineio.maxHttpHeaderSize");
  sample(server.accept_turn_ends(), "engineio.maxAcceptsPerTurn");
  const auto& per_address = endpoint.address_limits().stats();
  sample(per_address.connections_refused, "engineio.maxConnectionsPerAddress");
  sample(per_address.sessions_refused, "engineio.maxSessionsPerAddress");
  sample(per_address.handshakes_refused, "engineio.handshakesPerSecondPerAddress");
  const auto& budget = endpoint.handshake_budget().stats();
  sample(budget.refused_full + budget.refused_expired, "engineio.handshakesPerSecond");
  sample(endpoint.stats().budget_drops, "engineio.maxBufferedBytesTotal");
  sample(st.events_rate_limited, "socketio.eventsPerSecond");
  sample(st.rate_limit_disconnects, "socketio.maxRefusedEvents");
  sample(st.rooms_refused, "socketio.maxRoomsPerSocket");
  sample(st.namespaces_refused, "socketio.maxNamespacesPerClient");
  sample(st.auth_payloads_refused, "socketio.maxAuthPayload");
}

}  // namespace

void MetricsWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void MetricsWriter::sample(std::string_view name, double value, std::string_view label,
                           std::string_view label_value) {
  if (label.empty())
    out_ += fmt::format("{} {}\n", name, value);
  else
    sample(name, value, {{label, label_value}});
}

void MetricsWriter::sample(std::string_view name, double value, Labels labels) {
  if (labels.size() == 0) return sample(name, value);
  out_ += fmt::format("{}{{{}}} {}\n", name, label_text(labels), value);
}

void MetricsWriter::single(std::string_view name, std::string_view type, std::string_view help,
                           double value) {
  family(name, type, help);
  sample(name, value);
}

void MetricsWriter::by_label(std::string_view name, std::string_view type, std::string_view help,
                             std::string_view label, std::initializer_list<Count> counts) {
  family(name, type, help);
  for (const Count& c : counts) sample(name, static_cast<double>(c.value), label, c.label_value);
}

void MetricsWriter::histogram(std::string_view name, Labels labels,
                              std::span<const std::string_view> le,
                              std::span<const uint64_t> buckets, double sum) {
  std::string common = label_text(labels);
  std::string_view comma = common.empty() ? "" : ",";
  uint64_t count = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    count += buckets[i];
    std::string_view bound = i < le.size() ? le[i] : "+Inf";
    out_ += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, common, comma, bound, count);
  }
  std::string braces = common.empty() ? "" : "{" + common + "}";
  out_ += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, sum, name, braces, count);
}

Monitoring::Monitoring(const transport::Server& server, const transport::EngineIoEndpoint& endpoint,
                       const socketio::Server& io)
    : server_(server), endpoint_(endpoint), io_(io) {}

std::string Monitoring::metrics_text() const {
  std::string out;
  MetricsWriter w(out);
  write_engineio(w, server_, endpoint_);
  write_socketio(w, io_);
  write_recovery(w, io_);
  write_limits(w, server_, endpoint_, io_);
  for (const auto& [key, count] : limits_)
    w.sample("daheim_limit_refusals_total", static_cast<double>(count()), "limit", key);
  for (const auto& source : sources_) source(w);
  w.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", resident_bytes());
  w.gauge("process_open_fds", "Number of open file descriptors.", open_fds());
  return out;
}

void Monitoring::install(transport::Server& server) {
  server.add_route(transport::kServiceMetrics, "/healthz", [this](const transport::RouteRequest&) {
    transport::HttpReply r;
    r.content_type = "application/json";
    std::string fields;
    bool ok = true;
    for (const Health& h : health_) ok = h(fields) && ok;
    r.body = fmt::format("{{\"status\":\"{}\",\"sessions\":{}{}}}", ok ? "ok" : "degraded",
                         endpoint_.session_count(), fields);
    return r;
  });
  server.add_route(transport::kServiceMetrics, "/metrics", [this](const transport::RouteRequest&) {
    transport::HttpReply r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_text();
    return r;
  });
}

}  // namespace daheim::ops
