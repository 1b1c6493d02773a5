#include "core/log.hpp"

#include <array>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace facefleet::core {
namespace {

constexpr std::array<std::string_view, 4> kLevelNames = {"error", "warn", "info", "debug"};

std::atomic<LogLevel> g_level{LogLevel::kWarn};

struct SinkHolder {
  std::mutex mutex;
  LogSink sink;  // guarded by mutex
};

SinkHolder& Sink() {
  static SinkHolder holder;
  return holder;
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) return static_cast<LogLevel>(i);
  }
  return Status(ErrorCode::kUsage, "unknown log level '" + std::string(name) + "' (valid: error, warn, info, debug)");
}

void SetLogLevel(LogLevel level) { g_level.store(level); }
LogLevel GetLogLevel() { return g_level.load(); }

void SetLogSink(LogSink sink) {
  std::lock_guard lock(Sink().mutex);
  Sink().sink = std::move(sink);
}

void Log(LogLevel level, std::string_view message) {
  if (level > g_level.load()) return;
  SinkHolder& holder = Sink();
  std::lock_guard lock(holder.mutex);
  if (holder.sink) {
    holder.sink(level, message);
    return;
  }
  const std::string line =
      "facefleet: " + std::string(kLevelNames[static_cast<std::size_t>(level)]) + ": " + std::string(message) + "\n";
  std::fputs(line.c_str(), stderr);
}

}  // namespace facefleet::core
