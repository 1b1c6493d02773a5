#include "cluster/cluster_support.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "e2e/serve_process.hpp"

namespace facefleet::testing {
namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void PutU32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFFU);
}

void PutU16(std::string& out, std::uint16_t value) {
  out += static_cast<char>(value & 0xFFU);
  out += static_cast<char>(value >> 8U);
}

// A RIFF chunk: fourcc, little-endian size, data, padded to an even length.
std::string Chunk(std::string_view fourcc, const std::string& data) {
  std::string out(fourcc);
  PutU32(out, static_cast<std::uint32_t>(data.size()));
  out += data;
  if (data.size() % 2 != 0) out += '\0';
  return out;
}

std::string List(std::string_view type, const std::string& body) { return Chunk("LIST", std::string(type) + body); }

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

int UnusedLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool CliProcess::Launch(const std::vector<std::string>& args, const std::string& log_prefix, std::string* error) {
  Kill();
  port_ = 0;
  log_prefix_ = log_prefix;
  const int out_fd = ::open((log_prefix + ".out").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int err_fd = ::open((log_prefix + ".err").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0 || err_fd < 0) {
    *error = log_prefix + ": " + std::strerror(errno);
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    return false;
  }
  // Everything the child needs is prepared before fork: between fork and exec only async-signal-safe calls.
  std::vector<std::string> argv_text = {CliPath()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text = CleanEnvironment();
  std::vector<char*> envp;
  for (std::string& entry : env_text) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  pid_ = pid;
  return true;
}

bool CliProcess::WaitForUrl(std::string_view marker, std::chrono::milliseconds timeout, std::string* error) {
  const std::string needle = std::string(marker) + "http://";
  std::string why = "no '" + needle + "' line within " + std::to_string(timeout.count()) + " ms";
  const bool found = WaitUntil(
      [&] {
        const std::string out = Stdout();
        const std::size_t at = out.find(needle);
        const std::size_t eol = at == std::string::npos ? std::string::npos : out.find('\n', at);
        if (eol != std::string::npos) {
          const std::string address = out.substr(at + needle.size(), eol - at - needle.size());
          port_ = std::atoi(address.c_str() + address.rfind(':') + 1);
          return true;
        }
        if (const auto status = Wait(std::chrono::milliseconds(0))) {
          why = "exited with status " + std::to_string(*status);
          return true;
        }
        return false;
      },
      timeout, std::chrono::milliseconds(20));
  if (found && port_ > 0) return true;
  *error = "facefleet did not start: " + why + "\nstdout:\n" + Stdout() + "\nstderr:\n" + Stderr();
  Kill();
  return false;
}

std::string CliProcess::GeneratedKey() const {
  std::istringstream lines(Stdout());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ff_", 0) == 0) return line;
  }
  return "";
}

std::optional<int> CliProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  std::optional<int> result;
  WaitUntil(
      [&] {
        int status = 0;
        const pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_) result = DecodeWaitStatus(status);
        if (done < 0 && errno != EINTR) result = -1;
        return result.has_value();
      },
      timeout, std::chrono::milliseconds(10));
  if (result) pid_ = -1;
  return result;
}

void CliProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

int HttpStatus(int port, const std::string& path, std::string* body) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(10, 0);
  const auto result = client.Get(path.c_str());
  if (!result) return 0;
  if (body != nullptr) *body = result->body;
  return result->status;
}

Api::Api(int port, std::string key) : client_("127.0.0.1", port), key_(std::move(key)) {
  client_.set_connection_timeout(5, 0);
  client_.set_read_timeout(60, 0);
  client_.set_write_timeout(60, 0);
}

Api::Reply Api::Get(const std::string& path) { return Wrap(client_.Get(path.c_str(), Auth())); }

Api::Reply Api::Submit(const std::string& source, const std::string& target, const std::string& idempotency_key,
                       const std::string& options) {
  const httplib::MultipartFormDataItems items = {{"source", source, "source", "application/octet-stream"},
                                                 {"target", target, "target", "application/octet-stream"},
                                                 {"options", options, "", "application/json"}};
  httplib::Headers headers = Auth();
  if (!idempotency_key.empty()) headers.emplace("Idempotency-Key", idempotency_key);
  return Wrap(client_.Post("/v1/jobs", headers, items));
}

std::optional<std::vector<json>> Api::ListAll(int page_size) {
  std::vector<json> jobs;
  std::string cursor;
  for (int pages = 0; pages < 1000; ++pages) {
    std::string path = "/v1/jobs?limit=" + std::to_string(page_size);
    if (!cursor.empty()) path += "&cursor=" + httplib::detail::encode_query_param(cursor);
    const Reply reply = Get(path);
    if (reply.status != 200 || !reply.body.contains("jobs")) return std::nullopt;
    for (const auto& job : reply.body["jobs"]) jobs.push_back(job);
    if (!reply.body["next_cursor"].is_string()) return jobs;
    cursor = reply.body["next_cursor"].get<std::string>();
  }
  return std::nullopt;
}

httplib::Result Api::Download(const std::string& id) {
  return client_.Get(("/v1/jobs/" + id + "/result").c_str(), Auth());
}

Api::Reply Api::Wrap(const httplib::Result& result) {
  Reply reply;
  if (!result) {
    reply.transport_error = httplib::to_string(result.error());
    return reply;
  }
  reply.status = result->status;
  reply.raw = result->body;
  reply.body = json::parse(result->body, nullptr, false);
  return reply;
}

::testing::AssertionResult IsPng(const std::string& bytes, std::uint32_t width, std::uint32_t height) {
  const auto be32 = [&](std::size_t at) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) value = (value << 8U) | static_cast<unsigned char>(bytes[at + i]);
    return value;
  };
  if (bytes.size() < 33) return ::testing::AssertionFailure() << "only " << bytes.size() << " bytes";
  if (bytes.compare(0, 8, "\x89PNG\r\n\x1A\n") != 0) return ::testing::AssertionFailure() << "no PNG signature";
  if (bytes.compare(12, 4, "IHDR") != 0) return ::testing::AssertionFailure() << "first chunk is not IHDR";
  if (be32(16) != width || be32(20) != height) {
    return ::testing::AssertionFailure() << "PNG is " << be32(16) << "x" << be32(20);
  }
  return ::testing::AssertionSuccess();
}

std::optional<std::pair<int, int>> JpegSize(const std::string& jpeg) {
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(jpeg[at]); };
  std::size_t at = 2;  // after SOI
  while (at + 9 < jpeg.size() && byte(at) == 0xFF) {
    const unsigned marker = byte(at + 1);
    const std::size_t length = (byte(at + 2) << 8U) | byte(at + 3);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      return std::pair<int, int>((byte(at + 7) << 8U) | byte(at + 8), (byte(at + 5) << 8U) | byte(at + 6));
    }
    at += 2 + length;
  }
  return std::nullopt;
}

std::string MjpegAvi(const std::string& jpeg, int frames, int fps) {
  const auto size = JpegSize(jpeg).value_or(std::pair<int, int>(0, 0));
  const auto width = static_cast<std::uint32_t>(size.first);
  const auto height = static_cast<std::uint32_t>(size.second);
  const auto frame_bytes = static_cast<std::uint32_t>(jpeg.size());
  const auto count = static_cast<std::uint32_t>(frames);
  std::string avih;  // MainAVIHeader
  for (const std::uint32_t value :
       {1'000'000U / static_cast<std::uint32_t>(fps), frame_bytes * fps, 0U, 0x10U /* AVIF_HASINDEX */, count, 0U, 1U,
        frame_bytes, width, height, 0U, 0U, 0U, 0U}) {
    PutU32(avih, value);
  }
  std::string strh = "vidsMJPG";  // AVIStreamHeader
  for (const std::uint32_t value :
       {0U, 0U, 0U, 1U, static_cast<std::uint32_t>(fps), 0U, count, frame_bytes, 0xFFFFFFFFU, 0U}) {
    PutU32(strh, value);
  }
  for (const std::uint16_t value :
       {std::uint16_t{0}, std::uint16_t{0}, static_cast<std::uint16_t>(width), static_cast<std::uint16_t>(height)}) {
    PutU16(strh, value);
  }
  std::string strf;  // BITMAPINFOHEADER
  PutU32(strf, 40);
  PutU32(strf, width);
  PutU32(strf, height);
  PutU16(strf, 1);
  PutU16(strf, 24);
  strf += "MJPG";
  PutU32(strf, width * height * 3);
  for (int i = 0; i < 4; ++i) PutU32(strf, 0);
  const std::string hdrl = List("hdrl", Chunk("avih", avih) + List("strl", Chunk("strh", strh) + Chunk("strf", strf)));
  std::string movi;
  std::string idx1;
  for (int i = 0; i < frames; ++i) {
    idx1 += "00dc";
    PutU32(idx1, 0x10);                                         // AVIIF_KEYFRAME
    PutU32(idx1, static_cast<std::uint32_t>(4 + movi.size()));  // from the 'movi' fourcc
    PutU32(idx1, frame_bytes);
    movi += Chunk("00dc", jpeg);
  }
  const std::string body = "AVI " + hdrl + List("movi", movi) + Chunk("idx1", idx1);
  return Chunk("RIFF", body);
}

std::optional<std::int64_t> ParseRfc3339Ms(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  char zone = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &millis, &zone) != 8 ||
      zone != 'Z') {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000 + millis;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

}  // namespace facefleet::testing
