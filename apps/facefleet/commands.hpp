// Subcommands of the facefleet binary. Each takes the arguments after its own name and returns the
// process exit code (see error_info() for the mapping from errors).
#pragma once

#include <string>
#include <vector>

#include "facefleet/status.hpp"

namespace facefleet::apps {

int RunSwap(const std::vector<std::string>& args);
// facefleet models list|pull|verify (cmd_models.cpp).
int RunModels(const std::vector<std::string>& args);
// facefleet serve: the job service (cmd_serve.cpp).
int RunServe(const std::vector<std::string>& args);
// facefleet worker: runs jobs from a shared queue (cmd_worker.cpp).
int RunWorker(const std::vector<std::string>& args);
// facefleet keys create|list|revoke (cmd_keys.cpp).
int RunKeys(const std::vector<std::string>& args);
// facefleet health: exit 0 when a running server answers /healthz (the image's HEALTHCHECK; cmd_health.cpp).
int RunHealth(const std::vector<std::string>& args);

// Prints `status` as one line on stderr ("facefleet <command>: error: <code>: <message>") and returns its
// exit code.
int ReportError(const std::string& command, const Status& status);

}  // namespace facefleet::apps
