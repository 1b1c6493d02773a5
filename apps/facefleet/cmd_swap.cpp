// facefleet swap: the CLI face of Engine::SwapFiles. Flag names follow FaceFusion's where the feature is the
// same; list flags take comma-separated values or repeat ("--face-mask-types box,occlusion").
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stop_token>
#include <thread>

#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include "commands.hpp"
#include "common/flags.hpp"
#include "core/log.hpp"
#include "facefleet/facefleet.hpp"
#include "swap_flags.hpp"

namespace facefleet::apps {
namespace {

// Video progress on stderr: a bar redrawn in place (terminals), or one JSON object per line at most once a
// second plus a final one. Called from the engine's writer thread only, so it needs no lock.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(const std::string& mode)
      : json_(mode == "json"), bar_(mode == "auto" && ::isatty(STDERR_FILENO) == 1) {}
  bool enabled() const { return json_ || bar_; }

  void Update(const Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < (json_ ? std::chrono::seconds(1) : std::chrono::milliseconds(100))) return;
    last_ = now;
    Print(p);
  }
  void Done(const Progress& p) {
    Print(p);
    if (bar_) std::fputc('\n', stderr);
  }

 private:
  void Print(const Progress& p) const {
    if (json_) {
      std::fprintf(stderr, "{\"frames_done\":%lld,\"frames_total\":%lld,\"fps\":%.2f,\"elapsed_s\":%.2f}\n",
                   static_cast<long long>(p.frames_done), static_cast<long long>(p.frames_total), p.fps, p.elapsed_s);
    } else if (bar_) {
      const int width = 30;
      const int filled = p.frames_total > 0 ? static_cast<int>(width * p.frames_done / p.frames_total) : 0;
      std::fprintf(stderr, "\r[%s%s] %lld/%lld frames %.1f fps", std::string(filled, '#').c_str(),
                   std::string(width - filled, ' ').c_str(), static_cast<long long>(p.frames_done),
                   static_cast<long long>(p.frames_total), p.fps);
    }
    std::fflush(stderr);
  }

  bool json_;
  bool bar_;
  std::chrono::steady_clock::time_point last_{};
};

// Turns SIGINT/SIGTERM into a stop request for a running video swap: the signals are blocked in every thread and
// this watcher waits for them, so the pipeline stops cleanly (no partial output file) and the command exits 8.
// It waits in poll() on a signalfd and an eventfd, so the destructor wakes it at once: a timed wait would keep
// every swap alive for up to one more tick after its work is done.
class StopOnSignal {
 public:
  StopOnSignal() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    signal_fd_ = signalfd(-1, &signals_, SFD_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_CLOEXEC);
    watcher_ = std::thread([this] {
      std::array<pollfd, 2> fds{{{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}}};
      while (::poll(fds.data(), fds.size(), -1) < 0 && errno == EINTR) {
      }
      if ((fds[0].revents & POLLIN) != 0) stop_.request_stop();
    });
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  ~StopOnSignal() {
    const std::uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) < 0) std::perror("facefleet: eventfd");
    watcher_.join();
    ::close(signal_fd_);
    ::close(wake_fd_);
  }
  std::stop_token token() const { return stop_.get_token(); }

 private:
  sigset_t signals_{};
  int signal_fd_ = -1;  // -1 (poll ignores it) if the kernel refused: then only the wake-up ends the watcher
  int wake_fd_ = -1;
  std::stop_source stop_;
  std::thread watcher_;
};

}  // namespace

int ReportError(const std::string& command, const Status& status) {
  std::fprintf(stderr, "facefleet%s%s: error: %s\n", command.empty() ? "" : " ", command.c_str(),
               status.ToString().c_str());
  return error_info(status.code()).exit_code;
}

int RunSwap(const std::vector<std::string>& args) {
  FlagSet flags = SwapFlags();
  if (Status parsed = flags.Parse(args); !parsed.ok()) return ReportError("swap", parsed);
  if (flags.HelpRequested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  SwapOptions options;
  EngineOptions engine_options;
  if (Status read = ReadOptions(flags, options, engine_options); !read.ok()) return ReportError("swap", read);
  if (Status checked = Engine::CheckSwapFiles(options); !checked.ok()) return ReportError("swap", checked);
  const StopOnSignal interrupt;  // before the engine starts threads, so they all inherit the blocked signals
  auto engine = Engine::Create(engine_options);
  if (!engine.ok()) return ReportError("swap", engine.status());
  ProgressPrinter printer(flags.Get("--progress"));
  Progress last;
  const auto on_progress = [&](const Progress& p) {
    last = p;
    printer.Update(p);
  };
  // A video target goes to SwapVideo directly so progress can be shown; SwapFiles checks the target's kind.
  auto report =
      IsVideoOutput(options.output_path)
          ? (*engine)->SwapVideo(options, interrupt.token(),
                                 printer.enabled() ? std::function<void(const Progress&)>(on_progress) : nullptr)
          : (*engine)->SwapFiles(options);
  if (printer.enabled() && last.frames_done > 0) printer.Done(last);
  if (!report.ok()) return ReportError("swap", report.status());
  if (!flags.GetBool("--quiet")) {
    std::printf("%s\n", options.output_path.c_str());
    if (report->video_frames > 0) {
      std::fprintf(stderr, "facefleet swap: %lld frames, %d face(s) swapped\n",
                   static_cast<long long>(report->video_frames), report->swapped_faces);
    } else {
      std::fprintf(stderr, "facefleet swap: %d of %d face(s) swapped\n", report->swapped_faces, report->target_faces);
    }
  }
  return 0;
}

}  // namespace facefleet::apps
