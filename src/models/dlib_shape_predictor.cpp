// Classic 68-point landmarker: dlib's shape predictor (Kazemi & Sullivan ERT) from libdlib-data.
#include <filesystem>

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/opencv/cv_image.h>
#include <dlib/serialize.h>
#include <opencv2/imgproc.hpp>

#include "models/face_models.hpp"

namespace facefleet::models {
namespace {

class DlibShapePredictor final : public FaceLandmarker68 {
 public:
  explicit DlibShapePredictor(dlib::shape_predictor predictor) : predictor_(std::move(predictor)) {}

  std::string_view Name() const override { return "dlib_shape_predictor_68"; }

  // shape_predictor::operator() is const and keeps no scratch state, so concurrent calls are safe.
  Result<std::vector<Landmarks68Scored>> Landmark(const cv::Mat& bgr, std::span<const Box> boxes) const override {
    std::vector<Landmarks68Scored> out;
    if (boxes.empty()) return out;
    cv::Mat gray;
    cv::cvtColor(bgr, gray, bgr.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    const dlib::cv_image<unsigned char> image(gray);
    out.reserve(boxes.size());
    for (const Box& box : boxes) {
      const dlib::rectangle rect(static_cast<long>(box.x), static_cast<long>(box.y),
                                 static_cast<long>(box.x + box.width), static_cast<long>(box.y + box.height));
      const dlib::full_object_detection shape = predictor_(image, rect);
      if (shape.num_parts() != 68)
        return Status(ErrorCode::kModelUnavailable, "shape predictor is not a 68-point model");
      Landmarks68Scored points;  // the ERT predictor has no confidence: score 1
      for (unsigned long i = 0; i < 68; ++i) {
        points.points[i] = {static_cast<float>(shape.part(i).x()), static_cast<float>(shape.part(i).y())};
      }
      out.push_back(points);
    }
    return out;
  }

 private:
  const dlib::shape_predictor predictor_;
};

}  // namespace

Status CheckDlibShapePredictorPath(const std::string& path) {
  if (std::filesystem::is_regular_file(path)) return Status::Ok();
  return {ErrorCode::kModelUnavailable, path + ": shape predictor not found (install the Debian package libdlib-data)"};
}

Result<std::unique_ptr<FaceLandmarker68>> CreateDlibShapePredictor(const std::string& path) {
  if (Status found = CheckDlibShapePredictorPath(path); !found.ok()) return found;
  dlib::shape_predictor predictor;
  try {
    dlib::deserialize(path) >> predictor;
  } catch (const std::exception& e) {
    return Status(ErrorCode::kModelUnavailable, path + ": invalid shape predictor file: " + e.what());
  }
  if (predictor.num_parts() != 68) {
    return Status(ErrorCode::kModelUnavailable,
                  path + ": expected a 68-point model, got " + std::to_string(predictor.num_parts()) + " points");
  }
  return std::unique_ptr<FaceLandmarker68>(std::make_unique<DlibShapePredictor>(std::move(predictor)));
}

}  // namespace facefleet::models
