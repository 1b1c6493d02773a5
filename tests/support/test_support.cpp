#include "support/test_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sys/wait.h>

#include "media/image_io.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX

namespace facefleet::testing {

std::string GracePath() { return FACEFLEET_SAMPLE_GRACE; }
std::string AstronautPath() { return FACEFLEET_SAMPLE_ASTRONAUT; }

cv::Mat LoadBgr(const std::string& path) {
  auto image = media::ReadImage(path, 1LL << 31);  // libpng through facefleet: no warnings on stderr
  if (!image.ok()) throw std::runtime_error(image.status().ToString());
  return *image;
}

const Engine& SharedEngine() {
  static const std::unique_ptr<Engine> engine = [] {
    auto created = Engine::Create({});
    if (!created.ok()) throw std::runtime_error(created.status().ToString());
    return std::move(*created);
  }();
  return *engine;
}

void WriteBytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<unsigned char> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

double Psnr(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  diff.convertTo(diff, CV_64F);
  diff = diff.mul(diff);
  const cv::Scalar sum = mask.empty() ? cv::sum(diff) : cv::sum(diff.setTo(0, mask == 0));
  const double count = (mask.empty() ? a.total() : cv::countNonZero(mask)) * a.channels();
  const double mse = (sum[0] + sum[1] + sum[2] + sum[3]) / std::max(count, 1.0);
  return mse == 0 ? INFINITY : 10.0 * std::log10(255.0 * 255.0 / mse);
}

double Ncc(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  cv::Mat ga;
  cv::Mat gb;
  cv::cvtColor(a, ga, cv::COLOR_BGR2GRAY);
  cv::cvtColor(b, gb, cv::COLOR_BGR2GRAY);
  ga.convertTo(ga, CV_64F);
  gb.convertTo(gb, CV_64F);
  cv::Scalar ma;
  cv::Scalar sa;
  cv::Scalar mb;
  cv::Scalar sb;
  cv::meanStdDev(ga, ma, sa, mask);
  cv::meanStdDev(gb, mb, sb, mask);
  cv::Mat product = (ga - ma[0]).mul(gb - mb[0]);
  const double cov = cv::mean(product, mask)[0];
  return cov / std::max(sa[0] * sb[0], 1e-9);
}

Image ToImage(const cv::Mat& bgr) {
  Image image;
  image.width = bgr.cols;
  image.height = bgr.rows;
  image.channels = bgr.channels();
  image.pixels.assign(bgr.datastart, bgr.dataend);
  if (!bgr.isContinuous()) {
    cv::Mat copy = bgr.clone();
    image.pixels.assign(copy.datastart, copy.dataend);
  }
  return image;
}

cv::Mat ToMat(const Image& image) {
  return cv::Mat(image.height, image.width, CV_8UC(image.channels), const_cast<std::uint8_t*>(image.pixels.data()))
      .clone();
}

namespace {

std::string Drain(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> c_argv;
  std::vector<char*> c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env_strings) c_env.push_back(const_cast<char*>(e.c_str()));
  c_argv.push_back(nullptr);
  c_env.push_back(nullptr);
  TempDir dir;  // files avoid pipe deadlocks without a poll loop
  const std::string out_path = dir.File("stdout");
  const std::string err_path = dir.File("stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  ProcessResult result;
  const int rc = posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn failed for " + argv[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  const auto read_all = [](const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    std::string text = fd >= 0 ? Drain(fd) : "";
    if (fd >= 0) ::close(fd);
    return text;
  };
  result.out = read_all(out_path);
  result.err = read_all(err_path);
  return result;
}

}  // namespace facefleet::testing
