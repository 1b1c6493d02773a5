// The model manager: where model files live on disk, and how they are downloaded and verified.
//
// Layout of a models directory (FaceFusion's hash scheme, so a FaceFusion models folder can be reused):
//   <file>            the model, e.g. inswapper_128.onnx
//   <stem>.hash       8 lowercase hex chars: CRC32 (zlib) of the whole model file, e.g. inswapper_128.hash
//   <file>.part       a download in progress (resumed with an HTTP Range request by the next Pull)
//   models.lock       one line per model, "name sha256 size", recorded on the first verified download; later
//                     downloads and Verify must match it (CRC32 catches corruption, not a swapped file)
//
// Thread safety: a ModelStore is immutable after construction and its const methods may be called from
// several threads. Pull holds an exclusive flock(2) on the models directory for its whole run, so Pulls into
// one directory, from any number of threads or processes, run one after the other and never share a .part
// file or lose a models.lock update. Installs are atomic (rename), so Verify/Installed never see half a file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "facefleet/status.hpp"
#include "models/registry.hpp"

namespace facefleet::models {

struct PullOptions {
  // Mirrors in preference order; empty = DownloadUrls(model) (GitHub, then Hugging Face). A template may
  // contain {release} (e.g. models-3.0.0) and {file} (e.g. inswapper_128.onnx). The .hash is fetched from the
  // same URL with the model's file name replaced by the hash file name.
  std::vector<std::string> url_templates;
  // Extra attempts per URL after a network error, a cut connection or an HTTP 5xx/408/429 (each attempt
  // resumes where the last one stopped). 404 and other client errors move on to the next mirror at once.
  int retries = 5;
  double connect_timeout_s = 10;
  // Wait before the first retry; doubled for each further one (capped at 30 s).
  double initial_backoff_s = 0.5;
  // Called on the pulling thread while the model file (not the .hash) downloads: bytes on disk so far,
  // including a resumed prefix, and the expected total (0 while unknown). Must not throw.
  std::function<void(std::int64_t done, std::int64_t total)> on_progress;
};

// FACEFLEET_MODELS_DIR if set and non-empty, else $XDG_DATA_HOME/facefleet/models, else
// ~/.local/share/facefleet/models.
std::string DefaultModelsDir();

class ModelStore {
 public:
  explicit ModelStore(std::string models_dir);

  const std::string& models_dir() const { return models_dir_; }

  // Where the model file is (or would be) installed: <models_dir>/<file>.
  std::string PathOf(const ModelInfo& model) const;
  // <models_dir>/<stem>.hash
  std::string HashPathOf(const ModelInfo& model) const;

  // Cheap check (no hashing): the model file and its .hash are both present.
  bool Installed(const ModelInfo& model) const;

  // Downloads and installs `model` unless it is already installed and verifies. kModelUnavailable when no
  // mirror delivered a file matching its .hash (and models.lock): the message names the file, every URL
  // tried and why, and the path where the file can be placed by hand. kOutputFailed when the models directory
  // cannot be written. Blocks while another Pull holds the directory.
  Status Pull(const ModelInfo& model, const PullOptions& options) const;

  // The installed file exists, its CRC32 matches its .hash, and its SHA-256 and size match its models.lock
  // entry when there is one. kModelUnavailable naming the file and the mismatch otherwise. Reads the whole file.
  Status Verify(const ModelInfo& model) const;

 private:
  std::string models_dir_;
};

}  // namespace facefleet::models
