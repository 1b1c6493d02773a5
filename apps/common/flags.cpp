#include "common/flags.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

namespace facefleet::apps {
namespace {

std::vector<std::string> SplitCommas(const std::string& value) {
  std::vector<std::string> out;
  std::stringstream stream(value);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read at start-up only
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

void FlagSet::Add(Flag flag) { flags_.push_back(std::move(flag)); }

const Flag* FlagSet::Find(const std::string& name) const {
  const auto it = std::find_if(flags_.begin(), flags_.end(), [&](const Flag& f) { return f.name == name; });
  return it == flags_.end() ? nullptr : &*it;
}

std::string FlagSet::EnvName(const std::string& flag_name) {
  std::string out = "FACEFLEET_";
  for (const char c : flag_name.substr(flag_name.find_first_not_of('-'))) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

Status FlagSet::Parse(const std::vector<std::string>& args, const EnvLookup& env) {
  std::map<std::string, std::vector<std::string>> given;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> inline_value;
    if (const auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "--help" || name == "-h") {
      help_requested_ = true;
      continue;
    }
    const Flag* flag = Find(name);
    if (flag == nullptr) {
      const std::string what = name.rfind('-', 0) == 0 ? "unknown flag " : "unexpected argument ";
      return {ErrorCode::kUsage, what + name + " (see 'facefleet " + command_ + " --help')"};
    }
    std::string value = "1";
    if (!flag->metavar.empty()) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return {ErrorCode::kUsage, name + " needs a value (" + flag->metavar + ")"};
      }
    }
    auto& slot = given[name];
    if (!flag->repeatable) slot.clear();
    slot.push_back(value);
  }
  for (const Flag& flag : flags_) {
    if (given.contains(flag.name)) {
      values_[flag.name] = given[flag.name];
    } else if (auto from_env = flag.from_env ? env(EnvName(flag.name)) : std::nullopt; from_env.has_value()) {
      values_[flag.name] = flag.repeatable ? SplitCommas(*from_env) : std::vector<std::string>{*from_env};
    } else if (!flag.default_value.empty()) {
      values_[flag.name] = {flag.default_value};
    }
  }
  return Status::Ok();
}

std::string FlagSet::Get(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? std::string() : it->second.back();
}

std::vector<std::string> FlagSet::GetAll(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

bool FlagSet::GetBool(const std::string& name) const {
  const std::string value = Get(name);
  return value == "1" || value == "true" || value == "yes" || value == "on";
}

Result<std::int64_t> ParseInt(const std::string& flag, const std::string& text, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  std::size_t used = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    return Status(ErrorCode::kUsage, flag + " must be an integer, got '" + text + "'");
  if (value < min || value > max) {
    return Status(ErrorCode::kUsage,
                  flag + " must be within " + std::to_string(min) + "-" + std::to_string(max) + ", got " + text);
  }
  return value;
}

Result<std::int64_t> FlagSet::GetInt(const std::string& name, std::int64_t min, std::int64_t max) const {
  return ParseInt(name, Get(name), min, max);
}

Result<double> FlagSet::GetFloat(const std::string& name, double min, double max) const {
  const std::string text = Get(name);
  double value = 0;
  std::size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    return Status(ErrorCode::kUsage, name + " must be a number, got '" + text + "'");
  if (value < min || value > max) {
    std::ostringstream range;
    range << min << "-" << max;
    return Status(ErrorCode::kUsage, name + " must be within " + range.str() + ", got " + text);
  }
  return value;
}

std::vector<std::string> FlagSet::GetList(const std::string& name) const {
  std::vector<std::string> out;
  for (const std::string& value : GetAll(name)) {
    for (std::string& item : SplitCommas(value)) out.push_back(std::move(item));
  }
  return out;
}

std::string FlagSet::Help() const {
  std::ostringstream out;
  out << "usage: facefleet " << command_ << " [flags]\n\n" << summary_ << "\n\nflags:\n";
  for (const Flag& flag : flags_) {
    std::string left = "  " + flag.name + (flag.metavar.empty() ? "" : " " + flag.metavar);
    out << left << std::string(left.size() < 36 ? 36 - left.size() : 1, ' ') << flag.help;
    if (flag.repeatable) out << " (repeatable)";
    if (!flag.default_value.empty()) out << " [default: " << flag.default_value << "]";
    out << " [env: " << EnvName(flag.name) << "]\n";
  }
  out << "  --help                            show this help\n";
  return out.str();
}

}  // namespace facefleet::apps
