// facefleet models list|pull|verify: the CLI face of models::ModelStore.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common/flags.hpp"
#include "models/model_store.hpp"
#include "models/registry.hpp"

namespace facefleet::apps {
namespace {

constexpr const char* kUsage =
    "usage: facefleet models <list|pull|verify> [NAME...] [flags]   (facefleet models <subcommand> --help)\n\n"
    "  list     every supported model: kind, licence, approximate size, whether it is installed\n"
    "  pull     download NAME... (and the models they need), check their CRC32 and install them\n"
    "  verify   check NAME... (default: every installed model) against its .hash and models.lock\n";

// Every flag of the models subcommands, declared once; each subcommand takes the ones it names.
std::vector<Flag> ModelFlags() {
  return {
      {"--models-dir", "DIR", "directory holding the model files", models::DefaultModelsDir()},
      {"--license", "commercial|any", "only models whose licence allows commercial use, or any", "any"},
      {"--mirror", "URL_TEMPLATE",
       "download from this URL instead of GitHub/Hugging Face; {release} and {file} are replaced", "", true},
      {"--retries", "N", "retries per URL after a network error or HTTP 5xx", "5"},
  };
}

FlagSet FlagsFor(const std::string& subcommand, const std::string& summary, const std::vector<std::string>& names) {
  FlagSet flags("models " + subcommand, summary);
  for (Flag& flag : ModelFlags()) {
    if (std::find(names.begin(), names.end(), flag.name) != names.end()) flags.Add(std::move(flag));
  }
  return flags;
}

// FlagSet takes flags only: NAME arguments are split off first. A flag with a value consumes the next
// argument unless written --flag=value; "--" ends the flags.
void SplitArgs(const std::vector<std::string>& args, std::vector<std::string>& flag_args,
               std::vector<std::string>& names) {
  const std::vector<Flag> all = ModelFlags();
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      names.insert(names.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      return;
    }
    if (arg.empty() || arg[0] != '-') {
      names.push_back(arg);
      continue;
    }
    flag_args.push_back(arg);
    const auto it = std::find_if(all.begin(), all.end(), [&](const Flag& f) { return f.name == arg; });
    if (it != all.end() && !it->metavar.empty() && i + 1 < args.size()) flag_args.push_back(args[++i]);
  }
}

std::string AllModelNames() {
  std::string out;
  for (const models::ModelInfo& model : models::AllModels()) out += (out.empty() ? "" : ", ") + std::string(model.name);
  return out;
}

// The models named, in order, each followed by its companion (a model it needs) unless already listed.
// kUsage listing the valid names when one is unknown.
Result<std::vector<const models::ModelInfo*>> ResolveNames(const std::vector<std::string>& names,
                                                           bool with_companions) {
  std::vector<const models::ModelInfo*> out;
  const auto add = [&out](const models::ModelInfo* model) {
    if (std::find(out.begin(), out.end(), model) == out.end()) out.push_back(model);
  };
  for (const std::string& name : names) {
    const models::ModelInfo* model = models::FindModel(name);
    if (model == nullptr)
      return Status(ErrorCode::kUsage, "unknown model '" + name + "'; valid names: " + AllModelNames());
    add(model);
    const models::ModelInfo* companion = with_companions ? models::FindModel(model->companion) : nullptr;
    if (companion != nullptr) add(companion);
  }
  return out;
}

std::string ApproxSize(std::int64_t bytes) {
  std::array<char, 32> text{};
  if (bytes >= 1'000'000'000) {
    std::snprintf(text.data(), text.size(), "%.1f GB", static_cast<double>(bytes) / 1e9);
  } else if (bytes >= 1'000'000) {
    std::snprintf(text.data(), text.size(), "%lld MB", static_cast<long long>(bytes / 1'000'000));
  } else {
    std::snprintf(text.data(), text.size(), "%lld KB", static_cast<long long>(bytes / 1000));
  }
  return text.data();
}

int RunList(const FlagSet& flags) {
  const std::string license = flags.Get("--license");
  if (license != "commercial" && license != "any") {
    return ReportError("models list",
                       Status(ErrorCode::kUsage, "--license must be commercial or any, got '" + license + "'"));
  }
  const models::ModelStore store(flags.Get("--models-dir"));
  std::vector<std::array<std::string, 5>> rows = {{"NAME", "KIND", "LICENCE", "SIZE", "INSTALLED"}};
  for (const models::ModelInfo& model : models::AllModels()) {
    if (license == "commercial" && !model.commercial_use) continue;
    rows.push_back({std::string(model.name), std::string(models::KindName(model.kind)), std::string(model.license),
                    "~" + ApproxSize(model.approx_bytes), store.Installed(model) ? "yes" : "no"});
  }
  std::array<int, 5> widths{};
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], static_cast<int>(row[c].size()));
  }
  for (const auto& row : rows) {
    std::printf("%-*s  %-*s  %-*s  %*s  %s\n", widths[0], row[0].c_str(), widths[1], row[1].c_str(), widths[2],
                row[2].c_str(), widths[3], row[3].c_str(), row[4].c_str());
  }
  return 0;
}

// Draws "name [#####.....]  45%  250/554 MB" on stderr, at most ten times a second. Only used on a TTY.
class ProgressBar {
 public:
  explicit ProgressBar(std::string name) : name_(std::move(name)) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() {
    if (drawn_) std::fputc('\n', stderr);
  }

  void Update(std::int64_t done, std::int64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && (done == last_done_ || (now - last_ < std::chrono::milliseconds(100) && done != total))) return;
    last_ = now;
    last_done_ = done;
    drawn_ = true;
    constexpr int kWidth = 30;
    const double mb = 1e6;
    if (total <= 0) {
      std::fprintf(stderr, "\r%s %.1f MB", name_.c_str(), static_cast<double>(done) / mb);
    } else {
      const double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
      const int filled = static_cast<int>(fraction * kWidth);
      std::fprintf(stderr, "\r%s [%s%s] %3d%%  %.1f/%.1f MB", name_.c_str(), std::string(filled, '#').c_str(),
                   std::string(kWidth - filled, '.').c_str(), static_cast<int>(fraction * 100),
                   static_cast<double>(done) / mb, static_cast<double>(total) / mb);
    }
    std::fflush(stderr);
  }

 private:
  std::string name_;
  std::chrono::steady_clock::time_point last_;
  std::int64_t last_done_ = 0;
  bool drawn_ = false;
};

// The bar (when shown) is finished before the caller prints anything else.
Status PullWithProgress(const models::ModelStore& store, const models::ModelInfo& model, models::PullOptions options,
                        bool tty) {
  ProgressBar bar{std::string(model.name)};
  if (tty) options.on_progress = [&bar](std::int64_t done, std::int64_t total) { bar.Update(done, total); };
  return store.Pull(model, options);
}

int RunPull(const FlagSet& flags, const std::vector<std::string>& names) {
  if (names.empty()) {
    return ReportError("models pull",
                       Status(ErrorCode::kUsage, "name at least one model to pull; valid names: " + AllModelNames()));
  }
  const auto resolved = ResolveNames(names, /*with_companions=*/true);
  if (!resolved.ok()) return ReportError("models pull", resolved.status());
  const auto retries = flags.GetInt("--retries", 0, 100);
  if (!retries.ok()) return ReportError("models pull", retries.status());
  const models::ModelStore store(flags.Get("--models-dir"));
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  for (const models::ModelInfo* model : *resolved) {
    const bool present = store.Installed(*model) && store.Verify(*model).ok();
    if (!present) {
      models::PullOptions options;
      options.url_templates = flags.GetAll("--mirror");
      options.retries = static_cast<int>(*retries);
      if (Status pulled = PullWithProgress(store, *model, options, tty); !pulled.ok())
        return ReportError("models pull", pulled);
    }
    std::fprintf(stderr, "facefleet models pull: %s: %s\n", std::string(model->name).c_str(),
                 present ? "already installed" : "downloaded and verified");
    std::printf("%s\n", store.PathOf(*model).c_str());
  }
  return 0;
}

int RunVerify(const FlagSet& flags, const std::vector<std::string>& names) {
  const models::ModelStore store(flags.Get("--models-dir"));
  auto resolved = ResolveNames(names, /*with_companions=*/false);
  if (!resolved.ok()) return ReportError("models verify", resolved.status());
  if (names.empty()) {
    for (const models::ModelInfo& model : models::AllModels()) {
      if (store.Installed(model)) resolved->push_back(&model);
    }
    if (resolved->empty()) {
      std::fprintf(stderr, "facefleet models verify: no models installed in %s\n", store.models_dir().c_str());
      return 0;
    }
  }
  int exit_code = 0;
  for (const models::ModelInfo* model : *resolved) {
    if (Status verified = store.Verify(*model); !verified.ok()) {
      const int code = ReportError("models verify", verified);
      if (exit_code == 0) exit_code = code;
    } else {
      std::printf("%s ok\n", std::string(model->name).c_str());
    }
  }
  return exit_code;
}

}  // namespace

int RunModels(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? error_info(ErrorCode::kUsage).exit_code : 0;
  }
  const std::string& sub = args[0];
  FlagSet flags("models", "");
  if (sub == "list") {
    flags = FlagsFor(sub, "List every supported model.", {"--models-dir", "--license"});
  } else if (sub == "pull") {
    flags = FlagsFor(sub, "facefleet models pull NAME...: download, check (CRC32) and install models.",
                     {"--models-dir", "--mirror", "--retries"});
  } else if (sub == "verify") {
    flags =
        FlagsFor(sub, "facefleet models verify [NAME...]: check installed models (default: all).", {"--models-dir"});
  } else {
    return ReportError("models", Status(ErrorCode::kUsage, "unknown subcommand '" + sub + "' (list, pull, verify)"));
  }
  std::vector<std::string> flag_args;
  std::vector<std::string> names;
  SplitArgs({args.begin() + 1, args.end()}, flag_args, names);
  if (Status parsed = flags.Parse(flag_args); !parsed.ok()) return ReportError("models " + sub, parsed);
  if (flags.HelpRequested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  if (flags.Get("--models-dir").empty())
    return ReportError("models " + sub, Status(ErrorCode::kUsage, "--models-dir must not be empty"));
  if (sub == "list") {
    if (!names.empty())
      return ReportError("models list", Status(ErrorCode::kUsage, "unexpected argument " + names.front()));
    return RunList(flags);
  }
  return sub == "pull" ? RunPull(flags, names) : RunVerify(flags, names);
}

}  // namespace facefleet::apps
