// Routes without a job: probes, metrics, the OpenAPI document and the web page (all unauthenticated; the page
// itself asks for an API key and then uses the public API like any client).
#include "http/server_impl.hpp"

namespace facefleet::embedded {
extern const std::string_view kOpenApiJson;
extern const std::string_view kIndexHtml;
}  // namespace facefleet::embedded

namespace facefleet::http {
namespace {

void Ready(ApiServer::Impl& impl, httplib::Response& res) {
  nlohmann::json checks = nlohmann::json::object();
  bool ok = true;
  const auto check = [&](const char* name, const Status& status) {
    checks[name] = status.ok() ? "ok" : status.ToString();
    ok = ok && status.ok();
  };
  check("draining", impl.owner->draining() ? Status(ErrorCode::kUnavailable, "shutting down") : Status::Ok());
  check("queue", impl.ctx.queue->Ping());
  check("storage", impl.ctx.storage->Ping());
  check("models", impl.ctx.ready ? impl.ctx.ready() : Status::Ok());
  WriteJson(res, ok ? 200 : 503, {{"status", ok ? "ready" : "not_ready"}, {"checks", std::move(checks)}});
}

}  // namespace

void RegisterSystemRoutes(ApiServer::Impl& impl) {
  httplib::Server& server = impl.server;
  ApiServer::Impl* self = &impl;
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    WriteJson(res, 200, {{"status", "ok"}});
  });
  server.Get("/readyz", [self](const httplib::Request&, httplib::Response& res) { Ready(*self, res); });
  server.Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
    res.set_content(self->ctx.metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (impl.config.ops_only) return;
  server.Get("/v1/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(embedded::kOpenApiJson.data(), embedded::kOpenApiJson.size(), "application/json");
  });
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self' "
                   "'unsafe-inline'; script-src 'self' 'unsafe-inline'");
    res.set_content(embedded::kIndexHtml.data(), embedded::kIndexHtml.size(), "text/html; charset=utf-8");
  });
}

}  // namespace facefleet::http
