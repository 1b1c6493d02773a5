// POST /v1/jobs: stream a multipart upload into storage, check it, and commit the job before answering 202.
//
// Memory stays flat for any upload size: file parts go straight from the socket to a storage Writer in the
// library's chunks; only the small `options` part is held in memory. Media types are decided by the first bytes
// (never the file name or the part's Content-Type). Any failure removes everything already stored for the job.
#include <array>
#include <cstdlib>
#include <memory>

#include <openssl/evp.h>

#include "core/hex.hpp"
#include "http/server_impl.hpp"
#include "http/webhook.hpp"

namespace facefleet::http {
namespace {

constexpr std::size_t kMaxOptionsBytes = 64 * 1024;
constexpr std::size_t kSniffBytes = 16;

enum class Media : std::uint8_t { kUnknown, kImage, kVideo };

// Magic numbers of the formats the engine reads: JPEG, PNG, WebP, BMP; MP4/MOV (ftyp), Matroska/WebM (EBML),
// AVI, MPEG-TS and FLV.
Media Sniff(std::string_view head) {
  const auto starts = [&](std::string_view magic, std::size_t at = 0) {
    return head.size() >= at + magic.size() && head.substr(at, magic.size()) == magic;
  };
  if (starts("\xFF\xD8\xFF") || starts("\x89PNG\r\n\x1A\n") || (starts("RIFF") && starts("WEBP", 8)) || starts("BM")) {
    return Media::kImage;
  }
  if (starts("ftyp", 4) || starts("\x1A\x45\xDF\xA3") || (starts("RIFF") && starts("AVI ", 8)) || starts("FLV") ||
      (starts("\x47") && head.size() >= kSniffBytes)) {
    return Media::kVideo;
  }
  return Media::kUnknown;
}

// SHA-256 over the request's parts, for idempotency (same key + same body -> same job).
class BodyHash {
 public:
  BodyHash() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void Update(std::string_view bytes) { EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()); }
  std::string Hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest.data(), &length);
    return core::HexLower(digest.data(), length);
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

struct Part {
  std::string field;  // "source" | "target" | "options"
  std::string key;    // storage key (files)
  std::unique_ptr<storage::Writer> writer;
  std::string head;  // first bytes, for sniffing
  std::uint64_t size = 0;
};

// The state of one upload, fed by the multipart parser's callbacks.
class Upload {
 public:
  Upload(ApiServer::Impl& impl, std::string job_id) : impl_(impl), prefix_("jobs/" + std::move(job_id) + "/") {}
  ~Upload() {
    if (!kept_) (void)impl_.ctx.storage->DeletePrefix(prefix_);
  }
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  bool Begin(const httplib::MultipartFormData& part);
  bool Data(const char* data, std::size_t size);
  bool End();  // commits the last part
  void Keep() { kept_ = true; }

  const Status& error() const { return error_; }
  std::vector<Part>& sources() { return sources_; }
  Part& target() { return target_; }
  const std::string& options() const { return options_; }
  std::string Hash() { return hash_.Hex(); }
  std::uint64_t bytes() const { return bytes_; }

 private:
  bool Fail(ErrorCode code, std::string message) {
    if (error_.ok()) error_ = Status(code, std::move(message));
    return false;
  }
  bool Commit(Part& part);

  ApiServer::Impl& impl_;
  const std::string prefix_;
  Part* current_ = nullptr;
  Part options_part_;
  std::vector<Part> sources_;
  Part target_;
  std::string options_;
  BodyHash hash_;
  std::uint64_t bytes_ = 0;
  Status error_;
  bool kept_ = false;
};

bool Upload::Commit(Part& part) {
  if (!part.writer) return true;
  auto committed = part.writer->Commit();
  part.writer.reset();
  return committed.ok() || Fail(committed.status().code(), committed.status().message());
}

bool Upload::Begin(const httplib::MultipartFormData& part) {
  if (current_ != nullptr && !Commit(*current_)) return false;
  hash_.Update(part.name);
  hash_.Update(std::string_view("\0", 1));
  if (part.name == "options") {
    if (!options_part_.field.empty()) return Fail(ErrorCode::kInvalidRequest, "more than one 'options' part");
    options_part_.field = "options";
    current_ = &options_part_;
    return true;
  }
  Part* next = nullptr;
  if (part.name == "source") {
    if (static_cast<int>(sources_.size()) >= impl_.config.max_sources) {
      return Fail(ErrorCode::kInvalidRequest,
                  "at most " + std::to_string(impl_.config.max_sources) + " 'source' files");
    }
    sources_.emplace_back();
    next = &sources_.back();
    next->key = prefix_ + "source-" + std::to_string(sources_.size() - 1);
  } else if (part.name == "target") {
    if (!target_.field.empty()) return Fail(ErrorCode::kInvalidRequest, "more than one 'target' file");
    next = &target_;
    next->key = prefix_ + "target";
  } else {
    return Fail(ErrorCode::kInvalidRequest,
                "unknown form field '" + part.name.substr(0, 64) + "' (expected source, target, options)");
  }
  next->field = part.name;
  auto writer = impl_.ctx.storage->OpenWriter(next->key, "application/octet-stream");
  if (!writer.ok()) return Fail(writer.status().code(), writer.status().message());
  next->writer = std::move(*writer);
  current_ = next;
  return true;
}

bool Upload::Data(const char* data, std::size_t size) {
  if (current_ == nullptr) return Fail(ErrorCode::kInvalidRequest, "multipart data before any part header");
  const std::string_view bytes(data, size);
  hash_.Update(bytes);
  bytes_ += size;
  if (bytes_ > impl_.config.max_upload_bytes) {
    return Fail(ErrorCode::kPayloadTooLarge,
                "upload larger than the limit of " + std::to_string(impl_.config.max_upload_bytes) + " bytes");
  }
  current_->size += size;
  if (current_ == &options_part_) {
    options_.append(bytes);
    return options_.size() <= kMaxOptionsBytes || Fail(ErrorCode::kPayloadTooLarge, "'options' larger than 64 KiB");
  }
  if (current_->head.size() < kSniffBytes) current_->head.append(bytes.substr(0, kSniffBytes - current_->head.size()));
  Status appended = current_->writer->Append(bytes);
  return appended.ok() || Fail(appended.code(), appended.message());
}

bool Upload::End() { return current_ == nullptr || Commit(*current_); }

// Checks presence, emptiness and media types of the stored parts.
Status CheckParts(Upload& upload, bool& is_video) {
  if (upload.sources().empty()) return {ErrorCode::kInvalidRequest, "missing 'source' file part"};
  if (upload.target().field.empty()) return {ErrorCode::kInvalidRequest, "missing 'target' file part"};
  for (std::size_t i = 0; i < upload.sources().size(); ++i) {
    const Part& source = upload.sources()[i];
    const std::string name = "source " + std::to_string(i + 1);
    if (source.size == 0) return {ErrorCode::kInputUnreadable, name + " is empty"};
    if (Sniff(source.head) != Media::kImage) {
      return {ErrorCode::kUnsupportedMedia, name + " is not a JPEG, PNG, WebP or BMP image"};
    }
  }
  if (upload.target().size == 0) return {ErrorCode::kInputUnreadable, "target is empty"};
  const Media target = Sniff(upload.target().head);
  if (target == Media::kUnknown) {
    return {ErrorCode::kUnsupportedMedia, "target is neither an image (JPEG, PNG, WebP, BMP) nor a video"};
  }
  is_video = target == Media::kVideo;
  return Status::Ok();
}

// Splits the service's own fields (webhook, webhook_events) from the engine options and checks them.
Status TakeServiceOptions(ApiServer::Impl& impl, nlohmann::json& options, jobs::JobRecord& job) {
  if (options.contains("webhook_events") && !options.contains("webhook")) {
    return {ErrorCode::kUsage, "options.webhook_events: needs options.webhook"};
  }
  if (!options.contains("webhook")) return Status::Ok();
  if (!options["webhook"].is_string()) return {ErrorCode::kUsage, "options.webhook: expected a URL string"};
  job.webhook_url = options["webhook"].get<std::string>();
  options.erase("webhook");
  if (impl.ctx.webhooks == nullptr) return {ErrorCode::kUsage, "options.webhook: webhooks are disabled on this server"};
  if (Status valid = ValidateWebhookUrl(job.webhook_url, impl.config.allow_private_webhooks); !valid.ok()) {
    return {ErrorCode::kUsage, "options." + valid.message()};
  }
  nlohmann::json events = options.contains("webhook_events") ? options["webhook_events"] : nlohmann::json{"completed"};
  options.erase("webhook_events");
  if (!events.is_array() || events.empty()) {
    return {ErrorCode::kUsage, "options.webhook_events: expected a list of status, progress, completed"};
  }
  for (const auto& event : events) {
    const std::string name = event.is_string() ? event.get<std::string>() : "";
    if (name != "status" && name != "progress" && name != "completed") {
      return {ErrorCode::kUsage,
              "options.webhook_events: unknown event " + event.dump() + " (valid: status, progress, completed)"};
    }
    job.webhook_events += (job.webhook_events.empty() ? "" : ",") + name;
  }
  return Status::Ok();
}

// Parses the options part, validates the job against the engine's rules and fills the record.
Status BuildJob(ApiServer::Impl& impl, Upload& upload, jobs::JobRecord& job) {
  bool is_video = false;
  if (Status parts = CheckParts(upload, is_video); !parts.ok()) return parts;
  nlohmann::json options = nlohmann::json::object();
  if (!upload.options().empty()) {
    options = nlohmann::json::parse(upload.options(), nullptr, false);
    if (options.is_discarded()) return {ErrorCode::kInvalidRequest, "options: not valid JSON"};
    if (!options.is_object()) return {ErrorCode::kUsage, "options: expected a JSON object"};
  }
  if (Status service = TakeServiceOptions(impl, options, job); !service.ok()) return service;
  std::vector<std::string> source_paths;
  for (const Part& source : upload.sources()) {
    auto path = impl.ctx.storage->LocalPath(source.key, impl.config.scratch_dir);
    if (!path.ok()) return path.status();
    source_paths.push_back(*path);
    job.source_keys.push_back(source.key);
  }
  auto target_path = impl.ctx.storage->LocalPath(upload.target().key, impl.config.scratch_dir);
  if (!target_path.ok()) return target_path.status();
  job.target_key = upload.target().key;
  job.options_json = options.dump();
  auto spec = impl.ctx.validate ? impl.ctx.validate(job.options_json, source_paths, *target_path)
                                : Result<JobSpec>(JobSpec{is_video ? ".mp4" : ".png", is_video});
  if (!spec.ok()) return spec.status();
  job.output_ext = spec->output_ext;
  job.is_video = spec->is_video;
  job.max_attempts = impl.config.max_attempts;
  return Status::Ok();
}

// A refusal decided before the upload is read (key, rate limit, drain, content type, quota): the client is still
// sending the body. Read and drop it (at most max_upload_bytes of file data) so that the answer reaches the client
// instead of a connection reset, and close the connection so that no unread byte is taken for a next request.
void DropBody(ApiServer::Impl& impl, const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader& reader) {
  const int status = res.status;  // reading sets 400/413 on failure; the refusal's answer stands
  std::uint64_t left = impl.config.max_upload_bytes;
  const auto drop = [&left](const char*, std::size_t size) {
    if (size > left) return false;
    left -= size;
    return true;
  };
  // A declared length above the limit is not read (the library would skip all of it): that client gets the reset.
  const std::string length = req.get_header_value("Content-Length");
  const bool over_limit = !length.empty() && std::strtoull(length.c_str(), nullptr, 10) > impl.config.max_upload_bytes;
  if (!over_limit && req.is_multipart_form_data()) {
    (void)reader([](const httplib::MultipartFormData&) { return true; }, drop);
  } else if (!over_limit) {
    (void)reader(drop);
  }
  res.status = status;
  res.set_header("Connection", "close");
}

}  // namespace

void HandleSubmit(ApiServer::Impl& impl, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader) {
  const auto refuse = [&](const Status& status) {
    DropBody(impl, req, res, reader);
    WriteError(res, status);
  };
  const std::string owner = impl.Authorize(req, res);
  if (owner.empty()) return DropBody(impl, req, res, reader);  // Authorize wrote the answer
  if (impl.owner->draining()) return refuse({ErrorCode::kUnavailable, "server is shutting down; retry"});
  if (!req.is_multipart_form_data()) {
    return refuse({ErrorCode::kInvalidRequest,
                   "expected Content-Type multipart/form-data with 'source' and 'target' file parts"});
  }
  const std::string idempotency_key = req.get_header_value("Idempotency-Key");
  if (idempotency_key.size() > 255) return refuse({ErrorCode::kInvalidRequest, "Idempotency-Key too long"});
  auto active = impl.ctx.queue->CountActive(owner);
  if (!active.ok()) return refuse(active.status());
  if (*active >= impl.config.max_active_jobs) {
    res.set_header("Retry-After", "5");
    return refuse({ErrorCode::kRateLimited, "this key already has " + std::to_string(*active) +
                                                " queued or running jobs (limit " +
                                                std::to_string(impl.config.max_active_jobs) + ")"});
  }
  jobs::JobRecord job;
  job.id = jobs::NewJobId();
  job.owner = owner;
  job.idempotency_key = idempotency_key;
  Upload upload(impl, job.id);
  const bool parsed = reader([&](const httplib::MultipartFormData& part) { return upload.Begin(part); },
                             [&](const char* data, std::size_t size) { return upload.Data(data, size); });
  if (!parsed || !upload.End()) {
    res.set_header("Connection", "close");
    Status error = upload.error();
    if (error.ok() && res.status == 413) {  // the library refused a Content-Length above max_upload_bytes
      error = Status(ErrorCode::kPayloadTooLarge,
                     "upload larger than the limit of " + std::to_string(impl.config.max_upload_bytes) + " bytes");
    }
    return WriteError(res, error.ok() ? Status(ErrorCode::kInvalidRequest, "malformed multipart body") : error);
  }
  impl.uploaded_bytes->With({}).Increment(static_cast<double>(upload.bytes()));
  if (Status built = BuildJob(impl, upload, job); !built.ok()) return WriteError(res, built);
  job.request_hash = upload.Hash();
  auto outcome = impl.ctx.queue->Submit(job);
  if (!outcome.ok()) return WriteError(res, outcome.status());
  if (!outcome->created) {  // an idempotent replay: our fresh copy of the inputs is dropped by ~Upload
    res.set_header("Idempotent-Replayed", "true");
    return WriteJson(res, 200, JobToJson(outcome->job, impl.ResultUrl(outcome->job)));
  }
  upload.Keep();
  impl.submitted->With({job.is_video ? "video" : "image"}).Increment();
  if (impl.ctx.notifier != nullptr) impl.ctx.notifier->Notify();
  res.set_header("Location", "/v1/jobs/" + job.id);
  WriteJson(res, 202, JobToJson(outcome->job, ""));
}

}  // namespace facefleet::http
