// Shared mechanics of the neural face detectors: FaceFusion's letterbox, anchor decoding and NMS.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "models/onnx_models.hpp"

namespace facefleet::models::detail {

// The frame downscaled (never upscaled) to fit size x size, pasted top-left on a zero canvas; `scale_x/y`
// multiply detector coordinates back to frame coordinates.
struct Letterbox {
  cv::Mat canvas;  // 8-bit BGR, size x size
  float scale_x = 1;
  float scale_y = 1;
};
Letterbox MakeLetterbox(const cv::Mat& bgr, int size);

// NCHW float planes of the canvas, BGR order kept, (x - mean) / scale.
std::vector<float> BgrPlanes(const cv::Mat& canvas, float mean, float scale);

// Greedy non-maximum suppression: keeps the best-scoring boxes, dropping any whose IoU with a kept box is
// above `iou`. Returns the kept detections sorted by descending score.
std::vector<Detection> Nms(std::vector<Detection> detections, float iou);

// Decoding of retinaface/scrfd outputs (9 tensors: scores, box distances, 5-point offsets for strides 8, 16,
// 32; 2 anchors per cell) in detector coordinates, keeping scores >= threshold.
std::vector<Detection> DecodeAnchorOutputs(const std::vector<runtime::Tensor>& outputs, int size, float threshold);

// Maps detector coordinates back into the frame.
void Unletterbox(std::vector<Detection>& detections, const Letterbox& letterbox);

// A detector = a session + its input normalisation + a decoder of its raw outputs.
using Decoder = std::function<std::vector<Detection>(const std::vector<runtime::Tensor>&, int size, float threshold)>;
struct DetectorRecipe {
  float mean = 0;  // input = (pixel - mean) / scale
  float scale = 1;
  Decoder decode;
};
std::unique_ptr<FaceDetector> MakeOnnxDetector(std::unique_ptr<runtime::Session> session,
                                               const DetectorOptions& options, DetectorRecipe recipe);

DetectorRecipe YolofaceRecipe();
DetectorRecipe ScrfdRecipe();
DetectorRecipe RetinafaceRecipe();
DetectorRecipe YunetRecipe();

}  // namespace facefleet::models::detail
