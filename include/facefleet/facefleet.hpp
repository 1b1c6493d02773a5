// facefleet/facefleet.hpp — umbrella header of the facefleet engine library.
//
// Basic usage:
//
//   #include <facefleet/facefleet.hpp>
//
//   auto engine = facefleet::Engine::Create({});          // loads the classic (dlib) models
//   if (!engine.ok()) { fprintf(stderr, "%s\n", engine.status().ToString().c_str()); return 1; }
//
//   facefleet::SwapOptions options;
//   options.source_paths = {"me.jpg"};
//   options.target_path = "group.png";
//   options.output_path = "out.png";
//   options.face_selector_mode = facefleet::FaceSelectorMode::kMany;
//   auto report = (*engine)->SwapFiles(options);           // out.png is complete, or absent on error
//   if (!report.ok()) {
//     const auto& info = facefleet::error_info(report.status().code());
//     fprintf(stderr, "%s\n", report.status().ToString().c_str());
//     return info.exit_code;
//   }
//
// Headers: status.hpp (Status, Result, ErrorCode), types.hpp (Image, Face), options.hpp (EngineOptions,
// SwapOptions), engine.hpp (Engine), version.hpp.
#pragma once

#include "facefleet/engine.hpp"
#include "facefleet/options.hpp"
#include "facefleet/status.hpp"
#include "facefleet/types.hpp"
#include "facefleet/version.hpp"
