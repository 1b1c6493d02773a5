// Monotonic wall-clock timing for stage measurements.
#pragma once

#include <chrono>

namespace facefleet::core {

class Stopwatch {
 public:
  Stopwatch() : last_(Clock::now()) {}

  // Milliseconds since construction or the previous LapMs(), then restarts.
  double LapMs() {
    const auto now = Clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
    return ms;
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_;
};

}  // namespace facefleet::core
