// Classic 68-point landmarker: dlib's shape predictor (Kazemi & Sullivan ERT) from libdlib-data.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <type_traits>

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/opencv/cv_image.h>
#include <dlib/serialize.h>
#include <opencv2/imgproc.hpp>
#include <sys/mman.h>
#include <sys/stat.h>

#include "models/dlib_ert.hpp"
#include "models/face_models.hpp"

namespace facefleet::models {
namespace {

// Predictor: FlatShapePredictor (the file read fast) or dlib::shape_predictor (dlib's reader, the fallback
// for files FlatShapePredictor::Read leaves to it); both give the same landmarks.
template <typename Predictor>
class DlibShapePredictor final : public FaceLandmarker68 {
 public:
  explicit DlibShapePredictor(std::unique_ptr<const Predictor> predictor) : predictor_(std::move(predictor)) {}

  std::string_view Name() const override { return "dlib_shape_predictor_68"; }

  // shape_predictor::operator() is const and keeps no scratch state, so concurrent calls are safe.
  Result<std::vector<Landmarks68Scored>> Landmark(const cv::Mat& bgr, std::span<const Box> boxes) const override {
    std::vector<Landmarks68Scored> out;
    if (boxes.empty()) return out;
    cv::Mat gray;
    cv::cvtColor(bgr, gray, bgr.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    out.reserve(boxes.size());
    for (const Box& box : boxes) {
      const dlib::rectangle rect(static_cast<long>(box.x), static_cast<long>(box.y),
                                 static_cast<long>(box.x + box.width), static_cast<long>(box.y + box.height));
      const dlib::full_object_detection shape = Predict(gray, rect);
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
  dlib::full_object_detection Predict(const cv::Mat& gray, const dlib::rectangle& rect) const {
    if constexpr (std::is_same_v<Predictor, FlatShapePredictor>) {
      return predictor_->Predict(gray, rect);
    } else {
      return (*predictor_)(dlib::cv_image<unsigned char>(gray), rect);
    }
  }

  const std::unique_ptr<const Predictor> predictor_;
};

// The file read by FlatShapePredictor, or null (unreadable, or a format it leaves to dlib's reader). The file
// is mapped rather than read: a 100 MB buffer would cost a zero-fill, a copy and their page faults.
std::unique_ptr<FlatShapePredictor> ReadFlat(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  void* map = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  }
  ::close(fd);
  if (map == MAP_FAILED) return nullptr;
  const auto size = static_cast<std::size_t>(st.st_size);
  auto predictor = FlatShapePredictor::Read({static_cast<const std::uint8_t*>(map), size});
  ::munmap(map, size);
  return predictor;
}

Status CheckParts(const std::string& path, long parts) {
  if (parts == 68) return Status::Ok();
  return {ErrorCode::kModelUnavailable, path + ": expected a 68-point model, got " + std::to_string(parts) + " points"};
}

}  // namespace

Status CheckDlibShapePredictorPath(const std::string& path) {
  if (std::filesystem::is_regular_file(path)) return Status::Ok();
  return {ErrorCode::kModelUnavailable, path + ": shape predictor not found (install the Debian package libdlib-data)"};
}

Result<std::unique_ptr<FaceLandmarker68>> CreateDlibShapePredictor(const std::string& path) {
  if (Status found = CheckDlibShapePredictorPath(path); !found.ok()) return found;
  auto flat = ReadFlat(path);
  if (!flat) return CreateDlibShapePredictorWithDlibReader(path);  // it names what is wrong, if anything
  if (Status parts = CheckParts(path, flat->num_parts()); !parts.ok()) return parts;
  return std::unique_ptr<FaceLandmarker68>(std::make_unique<DlibShapePredictor<FlatShapePredictor>>(std::move(flat)));
}

Result<std::unique_ptr<FaceLandmarker68>> CreateDlibShapePredictorWithDlibReader(const std::string& path) {
  if (Status found = CheckDlibShapePredictorPath(path); !found.ok()) return found;
  auto predictor = std::make_unique<dlib::shape_predictor>();
  try {
    dlib::deserialize(path) >> *predictor;
  } catch (const std::exception& e) {
    return Status(ErrorCode::kModelUnavailable, path + ": invalid shape predictor file: " + e.what());
  }
  if (Status parts = CheckParts(path, static_cast<long>(predictor->num_parts())); !parts.ok()) return parts;
  return std::unique_ptr<FaceLandmarker68>(
      std::make_unique<DlibShapePredictor<dlib::shape_predictor>>(std::move(predictor)));
}

}  // namespace facefleet::models
