// Classic detector: dlib's frontal HOG detector (no download; compiled into libdlib).
#include <algorithm>
#include <mutex>

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>

#include "models/face_models.hpp"

namespace facefleet::models {
namespace {

// dlib's object_detector::operator() is not const (it reuses scratch buffers), so concurrent callers each
// borrow their own copy from this pool; copies are made on demand and kept for reuse. The first copy is
// decoded from dlib's compiled-in model on first use, so engines that never detect do not pay for it.
class DetectorPool {
 public:
  using Detector = dlib::frontal_face_detector;

  std::unique_ptr<Detector> Acquire() {
    std::lock_guard lock(mutex_);
    if (!prototype_) prototype_ = std::make_unique<const Detector>(dlib::get_frontal_face_detector());
    if (free_.empty()) return std::make_unique<Detector>(*prototype_);
    auto detector = std::move(free_.back());
    free_.pop_back();
    return detector;
  }
  void Release(std::unique_ptr<Detector> detector) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(detector));
  }

 private:
  std::mutex mutex_;
  std::unique_ptr<const Detector> prototype_;    // guarded by mutex_; set by the first Acquire
  std::vector<std::unique_ptr<Detector>> free_;  // guarded by mutex_
};

class DlibHogDetector final : public FaceDetector {
 public:
  explicit DlibHogDetector(int detector_size) : detector_size_(std::max(detector_size, 80)) {}

  std::string_view Name() const override { return "dlib_hog"; }
  void Warm() const override { pool_.Release(pool_.Acquire()); }

  Result<std::vector<Detection>> Detect(const cv::Mat& bgr) const override {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, bgr.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    auto faces = DetectAtSize(gray, detector_size_);
    const int longest = std::max(gray.cols, gray.rows);
    if (faces.empty() && longest > detector_size_) faces = DetectAtSize(gray, detector_size_ * 2);
    return faces;
  }

 private:
  std::vector<Detection> DetectAtSize(const cv::Mat& gray, int size) const {
    const int longest = std::max(gray.cols, gray.rows);
    const double scale = longest > size ? static_cast<double>(size) / longest : 1.0;
    cv::Mat small = gray;
    if (scale < 1.0) cv::resize(gray, small, cv::Size(), scale, scale, cv::INTER_AREA);
    std::vector<dlib::rect_detection> found;
    auto detector = pool_.Acquire();
    (*detector)(dlib::cv_image<unsigned char>(small), found);
    pool_.Release(std::move(detector));
    std::vector<Detection> out;
    out.reserve(found.size());
    for (const auto& d : found) {
      const auto& r = d.rect;
      const auto s = static_cast<float>(1.0 / scale);
      out.push_back({Box{static_cast<float>(r.left()) * s, static_cast<float>(r.top()) * s,
                         static_cast<float>(r.width()) * s, static_cast<float>(r.height()) * s},
                     static_cast<float>(d.detection_confidence)});
    }
    return out;
  }

  const int detector_size_;
  mutable DetectorPool pool_;
};

}  // namespace

std::unique_ptr<FaceDetector> CreateDlibHogDetector(int detector_size) {
  return std::make_unique<DlibHogDetector>(detector_size);
}

}  // namespace facefleet::models
