#include "media/av_util.hpp"

#include <mutex>

namespace facefleet::media {

std::string AvErrorText(int err) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(err, text, sizeof(text)) < 0) return "libav error " + std::to_string(err);
  return text;
}

void InitAvLogging() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_FATAL); });
}

Result<InputFormatPtr> OpenInput(const std::string& path) {
  InitAvLogging();
  AVFormatContext* raw = nullptr;
  if (const int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); err < 0) {
    if (err == AVERROR_INVALIDDATA) {
      return Status(ErrorCode::kUnsupportedMedia, path + ": not a video (unknown or corrupt container)");
    }
    if (err == AVERROR_EOF) return Status(ErrorCode::kInputUnreadable, path + ": video has no frames (no data)");
    return Status(ErrorCode::kInputUnreadable, path + ": cannot open video: " + AvErrorText(err));
  }
  InputFormatPtr input(raw);
  if (const int err = avformat_find_stream_info(input.get(), nullptr); err < 0) {
    return Status(ErrorCode::kInputUnreadable, path + ": cannot read stream info: " + AvErrorText(err));
  }
  return input;
}

}  // namespace facefleet::media
