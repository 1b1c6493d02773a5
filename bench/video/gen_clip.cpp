// facefleet-bench-video: writes the video benchmark's input clip with our own code (libav, no ffmpeg CLI): a
// pan/zoom over the sample photo (one face) with a 440 Hz sine audio track, H.264 + AAC.
//
//   facefleet-bench-video OUT.mp4 SECONDS [WIDTH HEIGHT FPS]     (default 1280 720 25)
#include <cstdio>
#include <exception>
#include <string>

#include "support/test_support.hpp"
#include "support/test_video.hpp"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 6) {
    std::fprintf(stderr, "usage: facefleet-bench-video OUT.mp4 SECONDS [WIDTH HEIGHT FPS]\n");
    return 2;
  }
  try {
    facefleet::testing::TestVideoSpec spec;
    spec.width = argc == 6 ? std::stoi(argv[3]) : 1280;
    spec.height = argc == 6 ? std::stoi(argv[4]) : 720;
    spec.fps = argc == 6 ? std::stoi(argv[5]) : 25;
    spec.frames = static_cast<int>(std::stod(argv[2]) * spec.fps);
    const cv::Mat photo = facefleet::testing::LoadBgr(facefleet::testing::GracePath());
    facefleet::testing::WriteTestVideo(argv[1], photo, spec);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facefleet-bench-video: %s\n", e.what());
    return 1;
  }
  return 0;
}
