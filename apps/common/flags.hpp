// Declarative command-line flags: each flag is declared once with its help text, default and
// environment variable (FACEFLEET_<NAME>, e.g. --output-image-quality <-> FACEFLEET_OUTPUT_IMAGE_QUALITY).
//
// Precedence: command line > environment > default. Not thread-safe; parse once at start-up.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "facefleet/status.hpp"

namespace facefleet::apps {

struct Flag {
  std::string name;           // "--source"
  std::string metavar;        // "PATH"; empty for a boolean switch
  std::string help;           // one line
  std::string default_value;  // shown in --help; empty = no default
  bool repeatable = false;    // may be given several times (env: comma-separated)
  bool from_env = true;       // false for per-invocation flags (`keys revoke --id`) that must never come from
                              // a stray FACEFLEET_* variable
};

// Looks up an environment variable; injectable so tests need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Parses `text` as an integer within [min, max]; kUsage naming `flag` otherwise.
Result<std::int64_t> ParseInt(const std::string& flag, const std::string& text, std::int64_t min, std::int64_t max);

// Collects the first error of several parse results, so a reader can parse every flag and report one error.
class Checker {
 public:
  template <typename T>
  T Take(Result<T> result, T fallback = T{}) {
    if (!result.ok()) {
      if (status_.ok()) status_ = result.status();
      return fallback;
    }
    return *result;
  }
  void Take(const Status& status) {
    if (status_.ok() && !status.ok()) status_ = status;
  }
  const Status& status() const { return status_; }

 private:
  Status status_;
};

class FlagSet {
 public:
  FlagSet(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {}

  // Declares a flag. Also declares nothing else: --help is built in.
  void Add(Flag flag);

  // Parses argv (without the program and command words). kUsage on unknown flags, missing values or
  // positional arguments. After a successful parse with --help, HelpRequested() is true.
  Status Parse(const std::vector<std::string>& args, const EnvLookup& env = ProcessEnv());

  // True when `name` ("--source") was declared.
  bool Has(const std::string& name) const { return Find(name) != nullptr; }

  bool HelpRequested() const { return help_requested_; }
  std::string Help() const;

  // The value from the command line, the environment or the default (empty if none).
  std::string Get(const std::string& name) const;
  std::vector<std::string> GetAll(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  // Integer within [min, max]; kUsage naming the flag otherwise.
  Result<std::int64_t> GetInt(const std::string& name, std::int64_t min, std::int64_t max) const;

  // Floating-point value within [min, max]; kUsage naming the flag otherwise.
  Result<double> GetFloat(const std::string& name, double min, double max) const;
  // Every value given (repeated flags), each also split on commas: "--x a,b --x c" -> {a, b, c}.
  std::vector<std::string> GetList(const std::string& name) const;

  static std::string EnvName(const std::string& flag_name);

 private:
  const Flag* Find(const std::string& name) const;

  std::string command_;
  std::string summary_;
  std::vector<Flag> flags_;
  std::map<std::string, std::vector<std::string>> values_;
  bool help_requested_ = false;
};

}  // namespace facefleet::apps
