// facefleet keys create|list|revoke: manage the API keys of `facefleet serve` (stored hashed in
// DATA_DIR/keys.db; the full key is printed once by `create`).
#include <cstdio>
#include <ctime>

#include "commands.hpp"
#include "common/flags.hpp"
#include "http/auth.hpp"
#include "service_common.hpp"

namespace facefleet::apps {
namespace {

FlagSet KeysFlags() {
  FlagSet flags("keys", "Manage API keys: keys create [--name NAME] | keys list | keys revoke --id ID");
  flags.Add({"--data-dir", "DIR", "the service's data directory (as for serve)", ""});
  flags.Add({"--key-pepper", "SECRET", "HMAC key for stored key hashes (must match the server's)", ""});
  flags.Add({"--name", "NAME", "create: a label for the key (who or what uses it)", "unnamed", false, false});
  flags.Add({"--id", "ID", "revoke: the key's id (the part after ff_, shown by list)", "", false, false});
  flags.Add({"--json", "", "list: machine-readable output", "", false, false});
  return flags;
}

std::string Date(std::int64_t ms) {
  const std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

int List(http::KeyStore& keys, bool json) {
  auto list = keys.List();
  if (!list.ok()) return ReportError("keys", list.status());
  if (!json) std::printf("%-14s %-20s %-22s %s\n", "ID", "NAME", "CREATED", "STATUS");
  for (const auto& key : *list) {
    const std::string status = key.revoked_ms > 0 ? "revoked " + Date(key.revoked_ms) : "active";
    if (json) {
      std::printf("{\"id\":\"%s\",\"name\":\"%s\",\"created_at\":\"%s\",\"revoked\":%s}\n", key.id.c_str(),
                  key.name.c_str(), Date(key.created_ms).c_str(), key.revoked_ms > 0 ? "true" : "false");
    } else {
      std::printf("%-14s %-20s %-22s %s\n", key.id.c_str(), key.name.c_str(), Date(key.created_ms).c_str(),
                  status.c_str());
    }
  }
  return 0;
}

}  // namespace

int RunKeys(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "create" && args[0] != "list" && args[0] != "revoke")) {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::fputs(KeysFlags().Help().c_str(), stdout);
      return 0;
    }
    return ReportError("keys", {ErrorCode::kUsage, "expected 'create', 'list' or 'revoke' (see --help)"});
  }
  FlagSet flags = KeysFlags();
  if (Status parsed = flags.Parse({args.begin() + 1, args.end()}); !parsed.ok()) return ReportError("keys", parsed);
  if (flags.HelpRequested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  // Same defaults and environment as serve (FACEFLEET_DATA_DIR, FACEFLEET_KEY_PEPPER).
  FlagSet service("keys", "");
  AddServiceFlags(service);
  std::vector<std::string> service_args;
  if (!flags.Get("--data-dir").empty()) service_args.push_back("--data-dir=" + flags.Get("--data-dir"));
  if (!flags.Get("--key-pepper").empty()) service_args.push_back("--key-pepper=" + flags.Get("--key-pepper"));
  if (Status parsed = service.Parse(service_args); !parsed.ok()) return ReportError("keys", parsed);
  auto config = ReadServiceConfig(service);
  if (!config.ok()) return ReportError("keys", config.status());
  auto keys = http::KeyStore::Open(config->data_dir + "/keys.db", config->key_pepper);
  if (!keys.ok()) return ReportError("keys", keys.status());
  if (args[0] == "list") return List(**keys, flags.GetBool("--json"));
  if (args[0] == "revoke") {
    if (flags.Get("--id").empty()) return ReportError("keys", {ErrorCode::kUsage, "revoke needs --id ID"});
    if (Status revoked = (*keys)->Revoke(flags.Get("--id")); !revoked.ok()) return ReportError("keys", revoked);
    std::fprintf(stderr, "facefleet keys: revoked %s\n", flags.Get("--id").c_str());
    return 0;
  }
  auto created = (*keys)->Create(flags.Get("--name"));
  if (!created.ok()) return ReportError("keys", created.status());
  std::printf("%s\n", created->key.c_str());
  std::fprintf(stderr, "facefleet keys: created key %s (%s); the key is shown only now\n", created->info.id.c_str(),
               created->info.name.c_str());
  return 0;
}

}  // namespace facefleet::apps
