#include "models/model_store.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "core/hex.hpp"
#include "facefleet/version.hpp"

namespace facefleet::models {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxHashBytes = 64;  // a .hash holds 8 hex chars (plus maybe a newline)
constexpr long kHashTimeoutS = 60;         // a few bytes: a stuck hash request is dead
constexpr double kMaxBackoffS = 30;
constexpr std::string_view kLockFileName = "models.lock";

std::string ErrnoMessage(int error) { return std::generic_category().message(error); }

// Owns a POSIX file descriptor; closing it also releases any flock(2) taken through it.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

std::string CrcHex(std::uint32_t crc) {
  std::array<char, 9> text{};
  std::snprintf(text.data(), text.size(), "%08x", crc);
  return text.data();
}

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The 8 lowercase hex chars of a .hash file's text (surrounding whitespace and upper case tolerated).
std::optional<std::string> ParseHash(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::nullopt;
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (lower.size() != 8 || !IsLowerHex(lower)) return std::nullopt;
  return lower;
}

// The CRC32 stored in a local .hash file; nullopt when missing, unreadable or malformed.
std::optional<std::string> ReadHashFile(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  std::array<char, kMaxHashBytes + 1> buffer{};
  std::size_t size = 0;
  while (size < buffer.size()) {
    const ssize_t n = ::read(fd.get(), buffer.data() + size, buffer.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxHashBytes) return std::nullopt;
  return ParseHash(std::string_view(buffer.data(), size));
}

struct FileDigest {
  std::uint32_t crc32 = 0;
  std::string sha256;  // lowercase hex
  std::int64_t size = 0;
};

// CRC32 (zlib) and SHA-256 (OpenSSL EVP) of a whole file in one pass.
Result<FileDigest> DigestFile(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Status(ErrorCode::kModelUnavailable, path + ": cannot read: " + ErrnoMessage(errno));
  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Status(ErrorCode::kInternal, "OpenSSL cannot compute SHA-256");
  std::vector<unsigned char> buffer(std::size_t{1} << 20U);
  uLong crc = crc32(0L, nullptr, 0);
  FileDigest digest;
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status(ErrorCode::kModelUnavailable, path + ": cannot read: " + ErrnoMessage(errno));
    if (n == 0) break;
    crc = crc32(crc, buffer.data(), static_cast<uInt>(n));
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(n));
    digest.size += n;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), md.data(), &md_size) != 1)
    return Status(ErrorCode::kInternal, "OpenSSL cannot compute SHA-256");
  digest.crc32 = static_cast<std::uint32_t>(crc);
  digest.sha256 = core::HexLower(md.data(), md_size);
  return digest;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {ErrorCode::kOutputFailed, path + ": cannot write: " + ErrnoMessage(errno)};
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// Makes renames inside `dir` durable. Best effort: a failure here loses nothing already visible.
void SyncDirectory(const std::string& dir) {
  const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

// Readers see the old contents or the new ones, never a mix: temp file in the same directory, fsync, rename.
Status WriteFileAtomic(const std::string& path, std::string_view contents) {
  const std::string temp = path + ".tmp";
  Status status;
  {
    const UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return {ErrorCode::kOutputFailed, temp + ": cannot create: " + ErrnoMessage(errno)};
    status = WriteAll(fd.get(), contents, temp);
    if (status.ok() && ::fsync(fd.get()) != 0)
      status = {ErrorCode::kOutputFailed, temp + ": cannot sync: " + ErrnoMessage(errno)};
  }
  if (status.ok() && std::rename(temp.c_str(), path.c_str()) != 0)
    status = {ErrorCode::kOutputFailed, path + ": cannot replace: " + ErrnoMessage(errno)};
  if (!status.ok()) ::unlink(temp.c_str());
  return status;
}

// models.lock: "name sha256 size" per line; '#' comments and blank lines are ignored.
struct LockEntry {
  std::string sha256;
  std::int64_t size = 0;
};
using LockTable = std::map<std::string, LockEntry, std::less<>>;

Result<LockTable> ReadLockFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return LockTable{};
    return Status(ErrorCode::kModelUnavailable, path + ": cannot read");
  }
  LockTable table;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos || line.front() == '#') continue;
    std::istringstream fields(line);
    std::string name;
    LockEntry entry;
    std::string extra;
    if (!(fields >> name >> entry.sha256 >> entry.size) || (fields >> extra) || entry.sha256.size() != 64 ||
        !IsLowerHex(entry.sha256) || entry.size < 0) {
      return Status(ErrorCode::kModelUnavailable,
                    path + ":" + std::to_string(number) + ": malformed line (expected 'name sha256 size')");
    }
    table[name] = entry;
  }
  return table;
}

std::string FormatLockFile(const LockTable& table) {
  std::string out = "# facefleet models.lock: name sha256 size, recorded on each model's first verified download\n";
  for (const auto& [name, entry] : table) out += name + " " + entry.sha256 + " " + std::to_string(entry.size) + "\n";
  return out;
}

// Holds an exclusive flock(2) on `dir` until the returned descriptor closes. flock conflicts between open
// file descriptions, so it serialises threads of one process as well as separate processes.
Result<UniqueFd> LockDirectory(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Status(ErrorCode::kOutputFailed, dir + ": cannot open: " + ErrnoMessage(errno));
  int rc = 0;
  do {
    rc = ::flock(fd.get(), LOCK_EX);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return Status(ErrorCode::kOutputFailed, dir + ": cannot lock: " + ErrnoMessage(errno));
  return fd;
}

// ---- HTTP (libcurl easy API) -------------------------------------------------------------------------------

enum class Outcome : std::uint8_t {
  kOk,
  kRetry,       // transient (network error, cut connection, 5xx): try the same URL again after a pause
  kNextMirror,  // this URL will not work (404, DNS failure, bad hash file): move on
  kFatal,       // local failure (disk): stop the whole Pull
};

struct Attempt {
  Outcome outcome = Outcome::kOk;
  std::string reason;  // why it failed, for the final message
  ErrorCode fatal_code = ErrorCode::kOutputFailed;
};

// State of one GET, shared with curl's callbacks (which run on the calling thread inside curl_easy_perform).
struct Exchange {
  CURL* curl = nullptr;
  int fd = -1;            // append-mode .part file, or -1 to collect the body in `memory`
  std::int64_t base = 0;  // bytes already in the file; sent as "Range: bytes=base-" when positive
  std::string memory;
  const std::function<void(std::int64_t, std::int64_t)>* on_progress = nullptr;
  long status = 0;                // HTTP status of the final response (curl reports a long)
  std::int64_t range_start = -1;  // first byte of the final response's Content-Range
  bool body_started = false;
  bool accept_body = false;
  bool memory_overflow = false;
  bool range_mismatch = false;
  int write_errno = 0;
};

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto& ex = *static_cast<Exchange*>(user);
  const std::string_view line(data, size * count);
  constexpr std::string_view kContentRange = "content-range:";
  if (line.starts_with("HTTP/")) {
    ex.range_start = -1;  // a new response (after a redirect): forget the previous one's headers
  } else if (line.size() > kContentRange.size() &&
             std::equal(kContentRange.begin(), kContentRange.end(), line.begin(),
                        [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); })) {
    const auto digits = line.find_first_of("0123456789", kContentRange.size());
    std::int64_t start = -1;
    if (digits != std::string_view::npos) std::from_chars(line.data() + digits, line.data() + line.size(), start);
    ex.range_start = start;
  }
  return size * count;
}

// Decides, at the first body byte, whether this response's body is the one we want.
bool AcceptBody(Exchange& ex) {
  if (ex.status == 206 && ex.fd >= 0) {
    ex.range_mismatch = ex.range_start != ex.base;
    return !ex.range_mismatch;
  }
  if (ex.status != 200) return false;  // an error page: not model bytes
  if (ex.fd >= 0 && ex.base > 0) {     // the server ignored our Range and sends the whole file: start over
    if (::ftruncate(ex.fd, 0) != 0) {
      ex.write_errno = errno;
      return false;
    }
    ex.base = 0;
  }
  return true;
}

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto& ex = *static_cast<Exchange*>(user);
  const std::size_t n = size * count;
  if (!ex.body_started) {
    ex.body_started = true;
    curl_easy_getinfo(ex.curl, CURLINFO_RESPONSE_CODE, &ex.status);
    ex.accept_body = AcceptBody(ex);
  }
  if (!ex.accept_body) return 0;  // aborts the transfer; the caller judges the status
  if (ex.fd < 0) {
    ex.memory_overflow = ex.memory.size() + n > kMaxHashBytes;
    if (ex.memory_overflow) return 0;
    ex.memory.append(data, n);
    return n;
  }
  std::string_view rest(data, n);
  while (!rest.empty()) {
    const ssize_t written = ::write(ex.fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      ex.write_errno = errno;
      return 0;
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  return n;
}

int OnProgress(void* user, curl_off_t dl_total, curl_off_t dl_now, curl_off_t /*ul_total*/, curl_off_t /*ul_now*/) {
  const auto& ex = *static_cast<const Exchange*>(user);
  if (ex.accept_body && ex.on_progress != nullptr && *ex.on_progress)
    (*ex.on_progress)(ex.base + dl_now, dl_total > 0 ? ex.base + dl_total : 0);
  return 0;
}

// Maps the end of one GET to what to do next.
Attempt Judge(const Exchange& ex, CURLcode code, const char* curl_error) {
  if (ex.write_errno != 0) return {Outcome::kFatal, "cannot write: " + ErrnoMessage(ex.write_errno)};
  if (ex.memory_overflow) return {Outcome::kNextMirror, "not a hash file (longer than 64 bytes)"};
  if (ex.range_mismatch) return {Outcome::kRetry, "the server sent a different byte range than asked for"};
  const std::string http = "HTTP " + std::to_string(ex.status);
  // 416: our .part does not fit the file on the server (or is already complete); the caller starts over.
  if (ex.status >= 500 || ex.status == 408 || ex.status == 429 || ex.status == 416) return {Outcome::kRetry, http};
  if (ex.status >= 300) return {Outcome::kNextMirror, http};
  const std::string why = curl_error[0] != '\0' ? curl_error : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OK:
      return ex.status == 200 || ex.status == 206 ? Attempt{} : Attempt{Outcome::kNextMirror, http};
    // Permanent for this URL: retrying cannot help (offline DNS, bad URL, untrusted certificate).
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_TOO_MANY_REDIRECTS:
      return {Outcome::kNextMirror, why};
    default:
      return {Outcome::kRetry, why};
  }
}

// One GET of `url` into `ex`. `timeout_s` bounds the whole transfer (0: no bound; stalls are still caught by
// the low-speed limit).
Attempt Perform(Exchange& ex, const std::string& url, const PullOptions& options, long timeout_s) {
  InitCurlOnce();
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(), &curl_easy_cleanup);
  if (!handle) return {Outcome::kFatal, "libcurl failed to initialise", ErrorCode::kInternal};
  CURL* curl = handle.get();
  ex.curl = curl;
  std::array<char, CURL_ERROR_SIZE> error{};
  const std::string agent = "facefleet/" + Version();
  const std::string range = std::to_string(ex.base) + "-";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error.data());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);        // no SIGALRM: we may run on any thread
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);  // GitHub release assets redirect to a CDN
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);  // under 1 KiB/s for a minute: treat as cut
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &ex);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, ex.on_progress != nullptr && *ex.on_progress ? 0L : 1L);
  if (ex.fd >= 0 && ex.base > 0) curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ex.status);
  return Judge(ex, code, error.data());
}

// Runs `once` until it stops asking for a retry, at most 1 + options.retries times, with exponential back-off.
template <typename Fn>
Attempt WithRetries(const PullOptions& options, Fn once) {
  double delay_s = options.initial_backoff_s;
  for (int attempt = 0;; ++attempt) {
    Attempt result = once();
    if (result.outcome != Outcome::kRetry) return result;
    if (attempt >= options.retries) {
      result.outcome = Outcome::kNextMirror;
      result.reason += ", " + std::to_string(attempt + 1) + " attempt(s)";
      return result;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(delay_s, kMaxBackoffS)));
    delay_s *= 2;
  }
}

// The 8-hex-char CRC32 published at `url`.
Attempt FetchHash(const std::string& url, const PullOptions& options, std::string& crc_hex) {
  std::string body;
  Attempt result = WithRetries(options, [&] {
    Exchange ex;
    Attempt attempt = Perform(ex, url, options, kHashTimeoutS);
    body = std::move(ex.memory);
    return attempt;
  });
  if (result.outcome != Outcome::kOk) return result;
  const auto parsed = ParseHash(body);
  if (!parsed) return {Outcome::kNextMirror, "not a CRC32 hash file"};
  crc_hex = *parsed;
  return result;
}

// Downloads `url` into the append-mode file `fd`, resuming after whatever it already holds.
Attempt DownloadInto(const std::string& url, int fd, const PullOptions& options) {
  return WithRetries(options, [&]() -> Attempt {
    struct stat info {};
    if (::fstat(fd, &info) != 0) return {Outcome::kFatal, "cannot stat: " + ErrnoMessage(errno)};
    Exchange ex;
    ex.fd = fd;
    ex.base = info.st_size;
    ex.on_progress = &options.on_progress;
    Attempt attempt = Perform(ex, url, options, 0);
    // Start over when the resume point was refused, or a 200 came with an empty body (no write to truncate).
    const bool restart = ex.range_mismatch || ex.status == 416 ||
                         (attempt.outcome == Outcome::kOk && ex.status == 200 && !ex.body_started);
    if (restart && ::ftruncate(fd, 0) != 0) return {Outcome::kFatal, "cannot truncate: " + ErrnoMessage(errno)};
    return attempt;
  });
}

struct Mirror {
  std::string model_url;
  std::string hash_url;
};

std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

std::vector<Mirror> MirrorsOf(const ModelInfo& model, const PullOptions& options, const std::string& hash_file) {
  std::vector<std::string> urls = options.url_templates.empty() ? DownloadUrls(model) : options.url_templates;
  std::vector<Mirror> mirrors;
  for (const std::string& url : urls) {
    Mirror mirror;
    mirror.model_url = ReplaceAll(ReplaceAll(url, "{release}", model.release), "{file}", model.file);
    mirror.hash_url = mirror.model_url;
    if (const auto pos = mirror.hash_url.rfind(model.file); pos != std::string::npos) {
      mirror.hash_url.replace(pos, model.file.size(), hash_file);
    } else {
      mirror.hash_url += ".hash";
    }
    mirrors.push_back(std::move(mirror));
  }
  return mirrors;
}

// One Pull once the directory lock is held. Owns the .part descriptor.
class Installer {
 public:
  Installer(const ModelStore& store, const ModelInfo& model, const PullOptions& options)
      : store_(store),
        model_(model),
        options_(options),
        path_(store.PathOf(model)),
        part_path_(path_ + ".part"),
        lock_path_((fs::path(store.models_dir()) / kLockFileName).string()) {}

  Status Run();

 private:
  Attempt TryMirror(const Mirror& mirror);
  Attempt Install(const std::string& crc_hex, const FileDigest& digest);
  std::string UnavailableMessage(const std::vector<std::string>& failures) const;

  const ModelStore& store_;
  const ModelInfo& model_;
  const PullOptions& options_;
  const std::string path_;
  const std::string part_path_;
  const std::string lock_path_;
  UniqueFd part_;
  bool stale_part_ = false;  // the .part holds bytes from an earlier run (maybe of another file version)
};

Status Installer::Run() {
  part_ = UniqueFd(::open(part_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (part_.get() < 0) return {ErrorCode::kOutputFailed, part_path_ + ": cannot create: " + ErrnoMessage(errno)};
  struct stat info {};
  stale_part_ = ::fstat(part_.get(), &info) == 0 && info.st_size > 0;
  const auto mirrors = MirrorsOf(model_, options_, fs::path(store_.HashPathOf(model_)).filename().string());
  std::vector<std::string> failures;
  Status result;
  for (std::size_t i = 0; i < mirrors.size();) {
    const Attempt attempt = TryMirror(mirrors[i]);
    if (attempt.outcome == Outcome::kOk) return Status::Ok();
    if (attempt.outcome == Outcome::kFatal) {
      result = Status(attempt.fatal_code, std::string(model_.name) + ": " + attempt.reason);
      break;
    }
    if (attempt.outcome == Outcome::kRetry) continue;  // a stale .part was dropped: same mirror from scratch
    failures.push_back(attempt.reason);
    ++i;
  }
  if (result.ok()) result = Status(ErrorCode::kModelUnavailable, UnavailableMessage(failures));
  // Keep a non-empty .part for the next Pull to resume; an empty one is clutter.
  if (::fstat(part_.get(), &info) == 0 && info.st_size == 0) ::unlink(part_path_.c_str());
  return result;
}

Attempt Installer::TryMirror(const Mirror& mirror) {
  std::string expected;
  if (Attempt hash = FetchHash(mirror.hash_url, options_, expected); hash.outcome != Outcome::kOk) {
    // Named by the model URL (what a user would fetch by hand); the .hash URL is that one with .hash.
    hash.reason = mirror.model_url + " (its .hash: " + hash.reason + ")";
    return hash;
  }
  if (Attempt download = DownloadInto(mirror.model_url, part_.get(), options_); download.outcome != Outcome::kOk) {
    download.reason = (download.outcome == Outcome::kFatal ? part_path_ + ": " : mirror.model_url + " (") +
                      download.reason + (download.outcome == Outcome::kFatal ? "" : ")");
    return download;
  }
  auto digest = DigestFile(part_path_);
  if (!digest.ok()) return {Outcome::kFatal, digest.status().message(), digest.status().code()};
  const std::string actual = CrcHex(digest->crc32);
  if (actual == expected) return Install(expected, *digest);
  if (::ftruncate(part_.get(), 0) != 0)
    return {Outcome::kFatal, part_path_ + ": cannot truncate: " + ErrnoMessage(errno)};
  if (stale_part_) {
    stale_part_ = false;
    return {Outcome::kRetry, ""};
  }
  return {Outcome::kNextMirror, mirror.model_url + " (CRC32 mismatch: expected " + expected + " from " +
                                    mirror.hash_url + ", got " + actual + "; download deleted)"};
}

Attempt Installer::Install(const std::string& crc_hex, const FileDigest& digest) {
  auto lock = ReadLockFile(lock_path_);
  if (!lock.ok()) return {Outcome::kFatal, lock.status().message(), lock.status().code()};
  if (const auto it = lock->find(model_.name); it != lock->end()) {
    if (it->second.sha256 != digest.sha256 || it->second.size != digest.size) {
      if (::ftruncate(part_.get(), 0) != 0)
        return {Outcome::kFatal, part_path_ + ": cannot truncate: " + ErrnoMessage(errno)};
      return {Outcome::kNextMirror, "download with SHA-256 " + digest.sha256 + " (" + std::to_string(digest.size) +
                                        " bytes) does not match " + lock_path_ + " (" + it->second.sha256 + ", " +
                                        std::to_string(it->second.size) +
                                        " bytes); deleted. If the model changed upstream, remove its line there"};
    }
  } else {
    (*lock)[std::string(model_.name)] = {digest.sha256, digest.size};
    if (Status written = WriteFileAtomic(lock_path_, FormatLockFile(*lock)); !written.ok())
      return {Outcome::kFatal, written.message()};
  }
  if (::fsync(part_.get()) != 0) return {Outcome::kFatal, part_path_ + ": cannot sync: " + ErrnoMessage(errno)};
  if (Status written = WriteFileAtomic(store_.HashPathOf(model_), crc_hex); !written.ok())
    return {Outcome::kFatal, written.message()};
  if (std::rename(part_path_.c_str(), path_.c_str()) != 0)
    return {Outcome::kFatal, path_ + ": cannot install: " + ErrnoMessage(errno)};
  SyncDirectory(store_.models_dir());
  return {};
}

std::string Installer::UnavailableMessage(const std::vector<std::string>& failures) const {
  std::string tried;
  for (const std::string& failure : failures) tried += (tried.empty() ? "" : "; ") + failure;
  return std::string(model_.name) + ": cannot download " + std::string(model_.file) + ": tried " + tried +
         ". To install it by hand, put the file at " + path_ + " and its CRC32 (8 hex digits) in " +
         store_.HashPathOf(model_);
}

std::string GetEnv(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): the environment is not modified
  return value == nullptr ? std::string() : std::string(value);
}

std::string HomeDir() {
  if (std::string home = GetEnv("HOME"); !home.empty()) return home;
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_dir != nullptr)
    return found->pw_dir;
  return ".";
}

}  // namespace

std::string DefaultModelsDir() {
  if (std::string dir = GetEnv("FACEFLEET_MODELS_DIR"); !dir.empty()) return dir;
  // The XDG spec says relative values are invalid and must be ignored.
  if (std::string data = GetEnv("XDG_DATA_HOME"); !data.empty() && data.front() == '/')
    return data + "/facefleet/models";
  return HomeDir() + "/.local/share/facefleet/models";
}

ModelStore::ModelStore(std::string models_dir) : models_dir_(std::move(models_dir)) {}

std::string ModelStore::PathOf(const ModelInfo& model) const { return (fs::path(models_dir_) / model.file).string(); }

std::string ModelStore::HashPathOf(const ModelInfo& model) const {
  return (fs::path(models_dir_) / fs::path(model.file).stem()).string() + ".hash";
}

bool ModelStore::Installed(const ModelInfo& model) const {
  std::error_code ec;
  return fs::is_regular_file(PathOf(model), ec) && fs::is_regular_file(HashPathOf(model), ec);
}

Status ModelStore::Pull(const ModelInfo& model, const PullOptions& options) const {
  std::error_code ec;
  fs::create_directories(models_dir_, ec);
  if (ec) return {ErrorCode::kOutputFailed, models_dir_ + ": cannot create the models directory: " + ec.message()};
  const auto lock = LockDirectory(models_dir_);
  if (!lock.ok()) return lock.status();
  // Checked under the lock: another process may have installed it while we waited.
  if (Installed(model) && Verify(model).ok()) return Status::Ok();
  return Installer(*this, model, options).Run();
}

Status ModelStore::Verify(const ModelInfo& model) const {
  const std::string name(model.name);
  const std::string path = PathOf(model);
  const std::string hash_path = HashPathOf(model);
  const std::string pull_hint = " (run 'facefleet models pull " + name + "')";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return {ErrorCode::kModelUnavailable, name + ": " + path + " is not installed" + pull_hint};
  const auto expected = ReadHashFile(hash_path);
  if (!expected)
    return {ErrorCode::kModelUnavailable, name + ": " + hash_path + " is missing or not a CRC32 hash" + pull_hint};
  auto digest = DigestFile(path);
  if (!digest.ok()) return digest.status();
  if (const std::string actual = CrcHex(digest->crc32); actual != *expected) {
    return {ErrorCode::kModelUnavailable, name + ": " + path + " is corrupt: CRC32 " + actual + ", expected " +
                                              *expected + " from " + hash_path + pull_hint};
  }
  const std::string lock_path = (fs::path(models_dir_) / kLockFileName).string();
  auto lock = ReadLockFile(lock_path);
  if (!lock.ok()) return lock.status();
  if (const auto it = lock->find(model.name); it != lock->end()) {
    if (it->second.sha256 != digest->sha256 || it->second.size != digest->size) {
      return {ErrorCode::kModelUnavailable, name + ": " + path + " has SHA-256 " + digest->sha256 + " (" +
                                                std::to_string(digest->size) + " bytes) but " + lock_path +
                                                " records " + it->second.sha256 + " (" +
                                                std::to_string(it->second.size) + " bytes)"};
    }
  }
  return Status::Ok();
}

}  // namespace facefleet::models
