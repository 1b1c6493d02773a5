// A tiny SVG writer (just the elements the simulator's plots need) and the two plots themselves.
//
// Output is deterministic: numbers are printed with a fixed number of decimals, so the same data gives the same
// bytes. Text is XML-escaped.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sim/simulator.hpp"

namespace facefleet::sim {

class SvgWriter {
 public:
  SvgWriter(double width, double height) : width_(width), height_(height) {}

  void Rect(double x, double y, double w, double h, const std::string& fill, const std::string& stroke = "none");
  void Line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1,
            const std::string& dash = "");
  void Polyline(const std::vector<std::pair<double, double>>& points, const std::string& stroke, double width = 1.5);
  void Circle(double cx, double cy, double r, const std::string& fill);
  // anchor: "start" | "middle" | "end".
  void Text(double x, double y, const std::string& text, double size = 11, const std::string& anchor = "start",
            const std::string& fill = "#222");

  // The complete document.
  std::string Finish() const;

 private:
  double width_;
  double height_;
  std::string body_;
};

// "1.5" style fixed-point text for SVG attributes and labels.
std::string Fixed(double value, int decimals);
std::string EscapeXml(const std::string& text);

// One row per policy: billed GPU nodes and ready workers (left), queue length (right) over time. Each column
// shares one y scale across policies so the rows compare directly.
std::string TimelineSvg(const std::string& title, const std::vector<PolicyResult>& results, double horizon_s);

struct TradeoffPoint {
  std::string label;  // e.g. "300 s"
  double cost = 0;
  double p95_wait_s = 0;
};

// Cost (y) against p95 queue wait (x): the `sweep` points joined in order (KEDA with different cooldowns), the
// `references` (other policies) as labelled dots.
std::string TradeoffSvg(const std::string& title, const std::vector<TradeoffPoint>& sweep,
                        const std::vector<TradeoffPoint>& references);

}  // namespace facefleet::sim
