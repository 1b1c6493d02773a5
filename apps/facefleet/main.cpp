// facefleet: one binary, several subcommands (swap, models, serve, worker, keys, health). Thin by design: all
// behaviour lives in libfacefleet.
#include <array>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "facefleet/status.hpp"
#include "facefleet/version.hpp"

namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  int (*run)(const std::vector<std::string>& args);
};

constexpr std::array<Command, 6> kCommands = {{
    {"swap", "put the face from --source into --target and write --output", facefleet::apps::RunSwap},
    {"models", "list, download (pull) and verify model files", facefleet::apps::RunModels},
    {"serve", "run the job service: REST API, web page, queue, workers, metrics", facefleet::apps::RunServe},
    {"worker", "run jobs from a shared queue (scale-out); serves health and metrics", facefleet::apps::RunWorker},
    {"keys", "create, list and revoke API keys for serve", facefleet::apps::RunKeys},
    {"health", "exit 0 when a running serve/worker answers /healthz (container health checks)",
     facefleet::apps::RunHealth},
}};

void PrintUsage(std::FILE* out) {
  std::fprintf(out, "usage: facefleet <command> [flags]   (facefleet <command> --help for its flags)\n\ncommands:\n");
  for (const Command& command : kCommands) {
    std::fprintf(out, "  %-8.*s %.*s\n", static_cast<int>(command.name.size()), command.name.data(),
                 static_cast<int>(command.summary.size()), command.summary.data());
  }
  std::fprintf(
      out, "\nglobal flags:\n  --version   print versions of facefleet and its libraries\n  --help      this text\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintUsage(stderr);
    return facefleet::error_info(facefleet::ErrorCode::kUsage).exit_code;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::printf("facefleet %s\n%s\n", facefleet::Version().c_str(), facefleet::LibraryVersions().c_str());
    return 0;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintUsage(stdout);
    return 0;
  }
  for (const Command& command : kCommands) {
    if (args[0] == command.name) return command.run({args.begin() + 1, args.end()});
  }
  return facefleet::apps::ReportError(
      "",
      facefleet::Status(facefleet::ErrorCode::kUsage, "unknown command '" + args[0] + "' (see 'facefleet --help')"));
}
