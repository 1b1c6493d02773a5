// Helpers shared by the test suites: sample photos, temporary directories, image metrics, processes.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "facefleet/engine.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::testing {

// Public-domain photos shipped by Debian (see samples/README.md): Grace Hopper (US Navy photo) and
// astronaut Eileen Collins (NASA photo). Both contain exactly one frontal face.
std::string GracePath();
std::string AstronautPath();
cv::Mat LoadBgr(const std::string& path);

// One Engine for the whole test binary (loading the 68-point model takes about a second).
const Engine& SharedEngine();

void WriteBytes(const std::string& path, const std::vector<unsigned char>& bytes);
std::vector<unsigned char> ReadBytes(const std::string& path);

// Peak signal-to-noise ratio in dB between two 8-bit images of equal size, over the pixels where `mask` is
// non-zero (all pixels when mask is empty). Returns +infinity for identical pixels.
double Psnr(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask = cv::Mat());

// Normalised cross-correlation of the grey levels of two images over `mask` (1 = same structure).
double Ncc(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask);

Image ToImage(const cv::Mat& bgr);
cv::Mat ToMat(const Image& image);

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs `argv` (argv[0] is the program path) with extra environment `env` ("NAME=value"), capturing output.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

}  // namespace facefleet::testing
