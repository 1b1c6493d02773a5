// facefleet keys create|list|revoke|import: manage the API keys of `facefleet serve`. They live where serve
// keeps them: in Redis when the queue is redis:// (--queue / FACEFLEET_QUEUE, shared by every API replica), else
// in DATA_DIR/keys.db. Stored hashed; the full key is printed once by `create`.
#include <cstdio>
#include <ctime>

#include "commands.hpp"
#include "common/flags.hpp"
#include "http/auth.hpp"
#include "service_common.hpp"

namespace facefleet::apps {
namespace {

FlagSet KeysFlags() {
  FlagSet flags("keys",
                "Manage API keys: keys create [--name NAME] | keys list | keys revoke --id ID | keys import "
                "[--from PATH]");
  flags.Add({"--data-dir", "DIR", "the service's data directory (as for serve)", ""});
  flags.Add({"--queue", "URL", "the service's queue (as for serve): with redis://... the keys live in that Redis", ""});
  flags.Add({"--key-pepper", "SECRET", "HMAC key for stored key hashes (must match the server's)", ""});
  flags.Add({"--name", "NAME", "create: a label for the key (who or what uses it)", "unnamed", false, false});
  flags.Add({"--id", "ID", "revoke: the key's id (the part after ff_, shown by list)", "", false, false});
  flags.Add({"--from", "PATH",
             "import: a SQLite key database whose keys are copied into the store (same pepper; keys keep working)",
             "DATA_DIR/keys.db", false, false});
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

// Copies every key of the SQLite database at `from` into `keys` (moving a fleet's keys.db into Redis). Keys
// whose id is already there are left alone, so running it twice is harmless.
int Import(http::KeyStore& keys, const std::string& from, const ServiceConfig& config) {
  auto source = http::OpenSqliteKeyStore(from, config.key_pepper);
  if (!source.ok()) return ReportError("keys", source.status());
  auto exported = (*source)->Export();
  if (!exported.ok()) return ReportError("keys", exported.status());
  int imported = 0;
  int present = 0;
  for (const http::StoredKey& key : *exported) {
    const Status status = keys.Import(key);
    if (status.code() == ErrorCode::kConflict) {
      ++present;
    } else if (!status.ok()) {
      return ReportError("keys", status);
    } else {
      ++imported;
    }
  }
  std::fprintf(stderr, "facefleet keys: imported %d key(s) from %s (%d already present)\n", imported, from.c_str(),
               present);
  return 0;
}

// The keys' store as serve opens it: the same defaults and environment (FACEFLEET_DATA_DIR, FACEFLEET_QUEUE,
// FACEFLEET_KEY_PEPPER), with this command's flags on top.
Result<ServiceConfig> ReadConfig(const FlagSet& flags) {
  FlagSet service("keys", "");
  AddServiceFlags(service);
  std::vector<std::string> service_args;
  for (const char* name : {"--data-dir", "--queue", "--key-pepper"}) {
    if (!flags.Get(name).empty()) service_args.push_back(std::string(name) + "=" + flags.Get(name));
  }
  if (Status parsed = service.Parse(service_args); !parsed.ok()) return parsed;
  return ReadServiceConfig(service);
}

}  // namespace

int RunKeys(const std::vector<std::string>& args) {
  const auto known = [](const std::string& verb) {
    return verb == "create" || verb == "list" || verb == "revoke" || verb == "import";
  };
  if (args.empty() || !known(args[0])) {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::fputs(KeysFlags().Help().c_str(), stdout);
      return 0;
    }
    return ReportError("keys", {ErrorCode::kUsage, "expected 'create', 'list', 'revoke' or 'import' (see --help)"});
  }
  FlagSet flags = KeysFlags();
  if (Status parsed = flags.Parse({args.begin() + 1, args.end()}); !parsed.ok()) return ReportError("keys", parsed);
  if (flags.HelpRequested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  auto config = ReadConfig(flags);
  if (!config.ok()) return ReportError("keys", config.status());
  auto keys = OpenKeyStore(*config, nullptr);
  if (!keys.ok()) return ReportError("keys", keys.status());
  if (args[0] == "list") return List(**keys, flags.GetBool("--json"));
  if (args[0] == "import") {
    std::string from = flags.Get("--from");
    if (const auto at = from.find("DATA_DIR"); at != std::string::npos) from.replace(at, 8, config->data_dir);
    return Import(**keys, from, *config);
  }
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
