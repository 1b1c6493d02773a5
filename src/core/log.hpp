// Minimal leveled logging to stderr, with a replaceable sink for tests.
//
// Thread-safe: messages are written whole under a lock local to the sink (one line each).
#pragma once

#include <functional>
#include <string_view>

#include "facefleet/status.hpp"

namespace facefleet::core {

enum class LogLevel : std::uint8_t { kError, kWarn, kInfo, kDebug };

Result<LogLevel> ParseLogLevel(std::string_view name);  // error|warn|info|debug
void SetLogLevel(LogLevel level);                       // default: kWarn
LogLevel GetLogLevel();

// Replaces where lines go (default: stderr). Pass nullptr to restore stderr.
using LogSink = std::function<void(LogLevel, std::string_view)>;
void SetLogSink(LogSink sink);

void Log(LogLevel level, std::string_view message);
inline void LogWarn(std::string_view message) { Log(LogLevel::kWarn, message); }
inline void LogInfo(std::string_view message) { Log(LogLevel::kInfo, message); }

}  // namespace facefleet::core
