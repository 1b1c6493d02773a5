#include "sim/svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace facefleet::sim {
namespace {

constexpr const char* kNodeColour = "#1f77b4";
constexpr const char* kWorkerColour = "#2ca02c";
constexpr const char* kQueueColour = "#d62728";
constexpr const char* kGridColour = "#e4e4e4";
constexpr const char* kAxisColour = "#888";

// The smallest "round" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) that is >= value (>= 1).
double NiceCeil(double value) {
  if (value <= 1) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
  for (const double step : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0}) {
    if (step * magnitude >= value - 1e-9) return step * magnitude;
  }
  return 10 * magnitude;
}

// Maps data to pixels inside one plot rectangle.
struct Frame {
  double left;
  double top;
  double width;
  double height;
  double x_max;
  double y_max;
  double X(double x) const { return left + std::min(x, x_max) / x_max * width; }
  double Y(double y) const { return top + height - std::min(y, y_max) / y_max * height; }
};

// A step line through (t, value) samples that only emits corners where the value changes (keeps files small).
template <typename ValueFn>
std::vector<std::pair<double, double>> StepPoints(const Frame& frame, const std::vector<Sample>& samples,
                                                  ValueFn value) {
  std::vector<std::pair<double, double>> points;
  if (samples.empty()) return points;
  int previous = value(samples.front());
  points.emplace_back(frame.X(0), frame.Y(previous));
  for (const Sample& sample : samples) {
    if (sample.t_s >= frame.x_max) break;
    const int current = value(sample);
    if (current == previous) continue;
    points.emplace_back(frame.X(sample.t_s), frame.Y(previous));
    points.emplace_back(frame.X(sample.t_s), frame.Y(current));
    previous = current;
  }
  points.emplace_back(frame.X(frame.x_max), frame.Y(previous));
  return points;
}

void DrawPanel(SvgWriter& svg, const Frame& frame, double hours_per_tick, bool label_x) {
  svg.Rect(frame.left, frame.top, frame.width, frame.height, "#fafafa", kGridColour);
  for (double h = hours_per_tick; h * 3600 < frame.x_max - 1; h += hours_per_tick) {
    svg.Line(frame.X(h * 3600), frame.top, frame.X(h * 3600), frame.top + frame.height, kGridColour);
  }
  if (label_x) {
    for (double h = 0; h * 3600 <= frame.x_max + 1; h += hours_per_tick) {
      svg.Text(frame.X(h * 3600), frame.top + frame.height + 14, Fixed(h, 0) + " h", 10, "middle");
    }
  }
  svg.Text(frame.left - 4, frame.top + 9, Fixed(frame.y_max, 0), 10, "end", kAxisColour);
  svg.Text(frame.left - 4, frame.top + frame.height, "0", 10, "end", kAxisColour);
}

// Keeps point labels from overwriting each other: each label moves up or down in line steps until its box is free.
class LabelPlacer {
 public:
  // The baseline y for a label of `chars` characters (10 px font) starting at x, as close to y as possible.
  double Place(double x, double y, std::size_t chars) {
    const double width = 5.8 * static_cast<double>(chars);
    for (int attempt = 0; attempt < 40; ++attempt) {
      const int lines = (attempt + 1) / 2;  // 0, 1, 1, 2, 2, ...: alternately below and above
      const double step = 11.0 * lines;
      const double candidate = y + (attempt % 2 == 0 ? step : -step);
      if (Free(x, candidate, width)) {
        boxes_.push_back({x, candidate, width});
        return candidate;
      }
    }
    return y;
  }

 private:
  struct Box {
    double x;
    double y;
    double width;
  };
  bool Free(double x, double y, double width) const {
    return std::none_of(boxes_.begin(), boxes_.end(),
                        [&](const Box& b) { return x < b.x + b.width && b.x < x + width && std::abs(y - b.y) < 10.5; });
  }
  std::vector<Box> boxes_;
};

void DrawLegend(SvgWriter& svg, double x, double y, const std::vector<std::pair<std::string, std::string>>& items) {
  for (const auto& [colour, label] : items) {
    svg.Line(x, y - 4, x + 18, y - 4, colour, 2.5);
    svg.Text(x + 22, y, label, 11);
    x += 30 + 6.5 * static_cast<double>(label.size());
  }
}

}  // namespace

std::string Fixed(double value, int decimals) {
  std::array<char, 64> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%.*f", decimals, value + 0.0);
  std::string text(buffer.data());
  if (text.rfind("-0", 0) == 0 && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);
  return text;
}

std::string EscapeXml(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void SvgWriter::Rect(double x, double y, double w, double h, const std::string& fill, const std::string& stroke) {
  body_ += "<rect x=\"" + Fixed(x, 1) + "\" y=\"" + Fixed(y, 1) + "\" width=\"" + Fixed(w, 1) + "\" height=\"" +
           Fixed(h, 1) + "\" fill=\"" + fill + "\" stroke=\"" + stroke + "\"/>\n";
}

void SvgWriter::Line(double x1, double y1, double x2, double y2, const std::string& stroke, double width,
                     const std::string& dash) {
  body_ += "<line x1=\"" + Fixed(x1, 1) + "\" y1=\"" + Fixed(y1, 1) + "\" x2=\"" + Fixed(x2, 1) + "\" y2=\"" +
           Fixed(y2, 1) + "\" stroke=\"" + stroke + "\" stroke-width=\"" + Fixed(width, 1) + "\"" +
           (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") + "/>\n";
}

void SvgWriter::Polyline(const std::vector<std::pair<double, double>>& points, const std::string& stroke,
                         double width) {
  if (points.empty()) return;
  body_ += "<polyline fill=\"none\" stroke=\"" + stroke + "\" stroke-width=\"" + Fixed(width, 1) + "\" points=\"";
  for (std::size_t i = 0; i < points.size(); ++i) {
    body_ += (i == 0 ? "" : " ") + Fixed(points[i].first, 0) + "," + Fixed(points[i].second, 0);  // whole pixels
  }
  body_ += "\"/>\n";
}

void SvgWriter::Circle(double cx, double cy, double r, const std::string& fill) {
  body_ += "<circle cx=\"" + Fixed(cx, 1) + "\" cy=\"" + Fixed(cy, 1) + "\" r=\"" + Fixed(r, 1) + "\" fill=\"" + fill +
           "\"/>\n";
}

void SvgWriter::Text(double x, double y, const std::string& text, double size, const std::string& anchor,
                     const std::string& fill) {
  body_ += "<text x=\"" + Fixed(x, 1) + "\" y=\"" + Fixed(y, 1) + "\" font-size=\"" + Fixed(size, 0) +
           "\" text-anchor=\"" + anchor + "\" fill=\"" + fill + "\">" + EscapeXml(text) + "</text>\n";
}

std::string SvgWriter::Finish() const {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Fixed(width_, 0) + "\" height=\"" + Fixed(height_, 0) +
         "\" viewBox=\"0 0 " + Fixed(width_, 0) + " " + Fixed(height_, 0) +
         "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body_ + "</svg>\n";
}

std::string TimelineSvg(const std::string& title, const std::vector<PolicyResult>& results, double horizon_s) {
  constexpr double kWidth = 960;
  constexpr double kLeft = 48;
  constexpr double kGap = 64;
  constexpr double kTop = 62;
  constexpr double kRowHeight = 100;
  constexpr double kPlotHeight = 70;
  const double column_width = (kWidth - kLeft - kGap - 16) / 2;
  double max_nodes = 1;
  double max_queue = 1;
  for (const PolicyResult& result : results) {
    for (const Sample& s : result.timeline) {
      max_nodes = std::max<double>(max_nodes, std::max(s.billed_nodes, s.ready_workers));
      max_queue = std::max<double>(max_queue, s.queue);
    }
  }
  const double height = kTop + kRowHeight * static_cast<double>(results.size()) + 10;
  SvgWriter svg(kWidth, height);
  svg.Text(kLeft, 20, title, 14);
  DrawLegend(svg, kLeft, 42, {{kNodeColour, "GPU nodes billed"}, {kWorkerColour, "ready workers"}});
  DrawLegend(svg, kLeft + column_width + kGap, 42, {{kQueueColour, "jobs waiting (stream lag)"}});
  const double hours_per_tick = horizon_s <= 72 * 3600.0 ? 6 : (horizon_s <= 168 * 3600.0 ? 12 : 24);
  for (std::size_t row = 0; row < results.size(); ++row) {
    const PolicyResult& r = results[row];
    const double top = kTop + kRowHeight * static_cast<double>(row) + 14;
    const bool last = row + 1 == results.size();
    svg.Text(kLeft, top - 4,
             PolicyName(r.kind) + ": " + Fixed(r.gpu_hours, 1) + " GPU-h, p95 wait " + Fixed(r.wait_p95_s, 0) + " s",
             11);
    const Frame nodes{kLeft, top, column_width, kPlotHeight, horizon_s, NiceCeil(max_nodes)};
    const Frame queue{kLeft + column_width + kGap, top, column_width, kPlotHeight, horizon_s, NiceCeil(max_queue)};
    DrawPanel(svg, nodes, hours_per_tick, last);
    DrawPanel(svg, queue, hours_per_tick, last);
    svg.Polyline(StepPoints(nodes, r.timeline, [](const Sample& s) { return s.billed_nodes; }), kNodeColour);
    svg.Polyline(StepPoints(nodes, r.timeline, [](const Sample& s) { return s.ready_workers; }), kWorkerColour, 1);
    svg.Polyline(StepPoints(queue, r.timeline, [](const Sample& s) { return s.queue; }), kQueueColour, 1);
  }
  return svg.Finish();
}

std::string TradeoffSvg(const std::string& title, const std::vector<TradeoffPoint>& sweep,
                        const std::vector<TradeoffPoint>& references) {
  constexpr std::array<const char*, 4> kReferenceColours = {"#555", "#ff7f0e", "#9467bd", "#8c564b"};
  double max_wait = 1;
  double max_cost = 1;
  for (const auto* points : {&sweep, &references}) {
    for (const TradeoffPoint& p : *points) {
      max_wait = std::max(max_wait, p.p95_wait_s * 1.1);
      max_cost = std::max(max_cost, p.cost * 1.1);
    }
  }
  SvgWriter svg(640, 440);
  svg.Text(70, 20, title, 13);
  const Frame frame{70, 50, 540, 330, NiceCeil(max_wait), NiceCeil(max_cost)};
  svg.Rect(frame.left, frame.top, frame.width, frame.height, "#fafafa", kGridColour);
  for (int i = 0; i <= 5; ++i) {
    const double x = frame.x_max * i / 5;
    const double y = frame.y_max * i / 5;
    svg.Line(frame.X(x), frame.top, frame.X(x), frame.top + frame.height, kGridColour);
    svg.Line(frame.left, frame.Y(y), frame.left + frame.width, frame.Y(y), kGridColour);
    svg.Text(frame.X(x), frame.top + frame.height + 15, Fixed(x, 0), 10, "middle");
    svg.Text(frame.left - 5, frame.Y(y) + 4, "$" + Fixed(y, frame.y_max < 10 ? 1 : 0), 10, "end");
  }
  svg.Text(frame.left + frame.width / 2, frame.top + frame.height + 34, "p95 queue wait (s)", 11, "middle");
  svg.Text(frame.left, frame.top - 8, "cost over the run (USD)", 11);
  svg.Text(frame.left + frame.width, frame.top - 8, "blue: keda, each point labelled with its cooldownPeriod", 10,
           "end", kNodeColour);
  std::vector<std::pair<double, double>> line;
  line.reserve(sweep.size());
  for (const TradeoffPoint& p : sweep) line.emplace_back(frame.X(p.p95_wait_s), frame.Y(p.cost));
  svg.Polyline(line, kNodeColour);
  LabelPlacer labels;
  for (const TradeoffPoint& p : sweep) {
    const double x = frame.X(p.p95_wait_s) + 6;
    svg.Circle(frame.X(p.p95_wait_s), frame.Y(p.cost), 3.5, kNodeColour);
    svg.Text(x, labels.Place(x, frame.Y(p.cost) - 5, p.label.size()), p.label, 10, "start", kNodeColour);
  }
  for (std::size_t i = 0; i < references.size(); ++i) {
    const TradeoffPoint& p = references[i];
    const char* colour = kReferenceColours[i % kReferenceColours.size()];
    const double x = frame.X(p.p95_wait_s) + 7;
    svg.Circle(frame.X(p.p95_wait_s), frame.Y(p.cost), 4.5, colour);
    svg.Text(x, labels.Place(x, frame.Y(p.cost) + 12, p.label.size()), p.label, 10, "start", colour);
  }
  return svg.Finish();
}

}  // namespace facefleet::sim
