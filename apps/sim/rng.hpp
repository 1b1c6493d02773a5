// Seeded random numbers for the simulator.
//
// Contract: the same seed gives the same sequence on every platform. std::mt19937_64 is specified bit for bit by
// the standard, but the std::*_distribution classes are not (libstdc++ and libc++ differ), so the transforms from
// raw bits to uniform, exponential and normal variates are written here.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace facefleet::sim {

class Rng {
 public:
  // `stream` separates independent sequences drawn from one user seed (arrivals, service times, bursts).
  Rng(std::uint64_t seed, std::uint64_t stream) : engine_(Mix(seed) ^ Mix(stream + 0x9E3779B97F4A7C15ULL)) {}

  // Uniform in [0, 1): the top 53 bits of one 64-bit draw.
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Exponential with the given rate (events per unit); mean 1/rate.
  double Exponential(double rate) { return -std::log1p(-Uniform()) / rate; }

  // Standard normal (Box-Muller, one of the pair; the other is discarded so every call costs two draws).
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]: log(u1) is finite
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  // SplitMix64 finaliser: spreads nearby seeds (1, 2, 3...) over the whole state space.
  static std::uint64_t Mix(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
  }

  std::mt19937_64 engine_;
};

}  // namespace facefleet::sim
