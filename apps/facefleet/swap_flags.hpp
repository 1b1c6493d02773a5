// The swap options declared once as flags, shared by `facefleet swap` (command line + FACEFLEET_* environment),
// `facefleet serve|worker` (engine flags) and the job service (a job's JSON options, parsed with the same table).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/flags.hpp"
#include "facefleet/options.hpp"

namespace facefleet::apps {

// Every flag of `facefleet swap`.
FlagSet SwapFlags();

// Engine-wide flags (models dir, shape predictor, classic detector size, execution providers, log level), for
// commands that create an Engine.
void AddEngineFlags(FlagSet& flags);
Status ReadEngineOptions(const FlagSet& flags, EngineOptions& engine);

// Fills both option structs from parsed SwapFlags(); kUsage naming the flag on a bad value. Also sets the log
// level from --log-level.
Status ReadOptions(const FlagSet& flags, SwapOptions& swap, EngineOptions& engine);

// A job's options: a JSON object whose keys are swap flag names in snake_case ("face_swapper_model") and whose
// values are what the flag takes (strings, numbers, booleans; lists as arrays or comma-separated strings).
// Paths, limits and engine-wide settings belong to the server and are refused like unknown names. kUsage naming
// "options.<field>" on an unknown field, a wrong type or a bad value. The returned options have no paths.
Result<SwapOptions> JobSwapOptions(const nlohmann::json& options);

// True for the video output extensions (.mp4 .mov .mkv .webm), any case.
bool IsVideoOutput(const std::string& path);

}  // namespace facefleet::apps
