#include "media/image_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <sys/stat.h>

#include "media/image_codecs.hpp"

namespace facefleet::media {
namespace {

std::string Prefixed(const std::string& path, const Status& status) { return path + ": " + status.message(); }

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

}  // namespace

cv::Mat NormalizeDecoded(cv::Mat image) {
  if (image.depth() == CV_16U) image.convertTo(image, CV_8U, 1.0 / 257.0);
  if (image.channels() == 1) cv::cvtColor(image, image, cv::COLOR_GRAY2BGR);
  if (image.channels() == 2) {  // grey + alpha
    std::vector<cv::Mat> planes;
    cv::split(image, planes);
    cv::merge(std::vector<cv::Mat>{planes[0], planes[0], planes[0], planes[1]}, image);
  }
  return image;
}

Status CheckInputPath(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return {ErrorCode::kInputUnreadable, path + ": file not found"};
  if (std::filesystem::is_directory(status)) return {ErrorCode::kInputUnreadable, path + ": is a directory"};
  if (::access(path.c_str(), R_OK) != 0) return {ErrorCode::kInputUnreadable, path + ": permission denied"};
  if (std::filesystem::file_size(path, ec) == 0 && !ec) return {ErrorCode::kInputUnreadable, path + ": file is empty"};
  return Status::Ok();
}

Result<std::vector<std::uint8_t>> ReadFileBytes(const std::string& path) {
  if (Status readable = CheckInputPath(path); !readable.ok()) return readable;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kInputUnreadable, path + ": cannot open: " + ErrnoText(errno));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status(ErrorCode::kInputUnreadable, path + ": read error");
  return bytes;
}

Result<cv::Mat> DecodeImage(std::span<const std::uint8_t> bytes, std::int64_t max_pixels) {
  auto header = ProbeImage(bytes);
  if (!header.ok()) return header.status();
  // Both sides are below 2^32 (ProbeImage), so the product fits in 64 unsigned bits; PNG's can overflow int64.
  const std::uint64_t pixels = static_cast<std::uint64_t>(header->width) * static_cast<std::uint64_t>(header->height);
  if (max_pixels < 0 || pixels > static_cast<std::uint64_t>(max_pixels)) {
    return Status(ErrorCode::kLimitExceeded, "image is " + std::to_string(header->width) + "x" +
                                                 std::to_string(header->height) + " (" + std::to_string(pixels) +
                                                 " pixels), over the limit of " + std::to_string(max_pixels) +
                                                 " pixels (--max-image-pixels)");
  }
  if (header->format == ImageFormat::kJpeg && !JpegIsComplete(bytes)) {
    return Status(ErrorCode::kInputUnreadable, "truncated JPEG data (no end-of-image marker)");
  }
  try {
    switch (header->format) {
      case ImageFormat::kJpeg:
        return DecodeJpeg(bytes);
      case ImageFormat::kPng:
        return DecodePng(bytes);
      case ImageFormat::kWebp:
        return DecodeWebp(bytes);
      case ImageFormat::kBmp:
        return DecodeBmp(bytes);
    }
  } catch (const cv::Exception& e) {  // only allocation and size failures are left to throw
    return Status(ErrorCode::kInternal, "decoding " + std::string(FormatName(header->format)) + " failed: " + e.err);
  }
  return Status(ErrorCode::kInternal, "unknown image format");
}

Result<cv::Mat> ReadImage(const std::string& path, std::int64_t max_pixels) {
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  auto image = DecodeImage(*bytes, max_pixels);
  if (!image.ok()) return Status(image.status().code(), Prefixed(path, image.status()));
  return image;
}

Result<std::vector<std::uint8_t>> EncodeImage(const cv::Mat& image, ImageFormat format, int quality) {
  if (image.empty()) return Status(ErrorCode::kInternal, "image encoder failed: empty image");
  try {
    cv::Mat pixels = NormalizeDecoded(image);  // the encoders take 8-bit BGR or BGRA
    if (pixels.channels() == 4 && !FormatHasAlpha(format)) cv::cvtColor(pixels, pixels, cv::COLOR_BGRA2BGR);
    switch (format) {
      case ImageFormat::kJpeg:
        return EncodeJpeg(pixels, quality);
      case ImageFormat::kPng:
        return EncodePng(pixels);
      case ImageFormat::kWebp:
        return EncodeWebp(pixels, quality);
      case ImageFormat::kBmp:
        return EncodeBmp(pixels);
    }
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kInternal, "image encoder failed: " + e.err);
  }
  return Status(ErrorCode::kInternal, "image encoder failed: unknown format");
}

Status CheckOutputPath(const std::string& path) {
  auto format = FormatFromExtension(path);
  if (!format.ok()) return {format.status().code(), path + ": " + format.status().message()};
  return CheckOutputLocation(path);
}

Status CheckOutputLocation(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return {ErrorCode::kOutputFailed, path + ": is a directory"};
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec))
    return {ErrorCode::kOutputFailed, path + ": directory " + dir.string() + " does not exist"};
  if (::access(dir.c_str(), W_OK) != 0) {
    return {ErrorCode::kOutputFailed, path + ": directory " + dir.string() + " is not writable"};
  }
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::span<const std::uint8_t> bytes) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::random_device random;
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    temp = (dir / ("." + target.filename().string() + "." + std::to_string(random()) + ".tmp")).string();
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);  // 0666 & ~umask
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return {ErrorCode::kOutputFailed, path + ": cannot create file: " + ErrnoText(errno)};
  std::size_t written = 0;
  int err = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = errno;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(temp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(temp.c_str());
    const std::string reason = err == ENOSPC ? "disk full" : ErrnoText(err);
    return {ErrorCode::kOutputFailed, path + ": write failed: " + reason};
  }
  return Status::Ok();
}

cv::Mat AsMat(const Image& image) {
  return {image.height, image.width, CV_8UC(image.channels), const_cast<std::uint8_t*>(image.pixels.data()),
          image.row_bytes()};
}

Image ToImage(const cv::Mat& mat) {
  Image image;
  image.width = mat.cols;
  image.height = mat.rows;
  image.channels = mat.channels();
  image.pixels.resize(static_cast<std::size_t>(mat.cols) * mat.rows * mat.channels());
  cv::Mat view = AsMat(image);
  mat.copyTo(view);
  return image;
}

}  // namespace facefleet::media
