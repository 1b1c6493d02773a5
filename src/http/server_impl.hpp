// Private to src/http: the state shared by the transport (server.cpp) and the route files.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "http/api_server.hpp"

namespace facefleet::http {

struct ApiServer::Impl {
  ServerConfig config;
  ServiceContext ctx;
  ApiServer* owner = nullptr;
  httplib::Server server;
  std::unique_ptr<RateLimiter> own_limiter;  // when ctx.limiter was null
  RateLimiter* limiter = nullptr;            // ctx.limiter or own_limiter
  std::atomic<int> event_streams{0};
  int listen_fd = -1;  // set while binding (Start)

  // Metrics owned by the HTTP layer (job metrics are registered by the embedding command).
  metrics::Family<metrics::Counter>* requests = nullptr;
  metrics::Family<metrics::Histogram>* latency = nullptr;
  metrics::Family<metrics::Counter>* submitted = nullptr;
  metrics::Family<metrics::Counter>* uploaded_bytes = nullptr;
  metrics::Family<metrics::Counter>* rate_unchecked = nullptr;

  Impl(ServerConfig c, ServiceContext x) : config(std::move(c)), ctx(std::move(x)), limiter(ctx.limiter) {
    if (limiter == nullptr) {
      own_limiter = std::make_unique<LocalRateLimiter>(config.rate_limit, config.rate_burst);
      limiter = own_limiter.get();
    }
  }

  // Authenticates and rate-limits a request. On failure writes the error response and returns "".
  std::string Authorize(const httplib::Request& req, httplib::Response& res) const;
  // The URL a client fetches the result from: presigned storage URL, else this API's /result route.
  std::string ResultUrl(const jobs::JobRecord& job) const;
};

// Writes {"error":{"code":..,"message":..}} with the status from error_info() (the one mapping).
void WriteError(httplib::Response& res, const Status& status);
void WriteJson(httplib::Response& res, int http_status, const nlohmann::json& body);

// Route registration (routes_jobs.cpp, routes_system.cpp).
void RegisterJobRoutes(ApiServer::Impl& impl);
void RegisterSystemRoutes(ApiServer::Impl& impl);
// POST /v1/jobs (submit.cpp).
void HandleSubmit(ApiServer::Impl& impl, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader);

// The job as JSON (also used by webhooks and SSE).
nlohmann::json JobToJson(const jobs::JobRecord& job, const std::string& result_url);

// "/v1/jobs/{id}" style route label for metrics: never the raw path (unbounded label values).
std::string RouteLabel(const std::string& method, const std::string& path);

}  // namespace facefleet::http
