// Lua scripts run by SHA (redis/client.hpp). The SHA-1 is computed here, so a script needs no SCRIPT LOAD round
// trip before its first use and no state shared between threads: EVALSHA either runs it or answers NOSCRIPT,
// and then EVAL sends the text once, which also caches it on the server for the next EVALSHA.
#include <array>
#include <utility>

#include <openssl/evp.h>

#include "core/hex.hpp"
#include "redis/client.hpp"

namespace facefleet::redis {
namespace {

std::string Sha1Hex(const std::string& text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha1(), nullptr);
  return core::HexLower(digest.data(), length);
}

}  // namespace

Script::Script(std::string text) : text_(std::move(text)), sha_(Sha1Hex(text_)) {}

Status Script::Load(Pool& pool) const {
  Result<Reply> reply = pool.Run({"SCRIPT", "LOAD", text_});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type != REDIS_REPLY_STRING) return ErrorReply(**reply, "SCRIPT LOAD");
  if (Text(**reply) != sha_) {
    return {ErrorCode::kInternal, "redis SCRIPT LOAD: the server names the script " + std::string(Text(**reply)) +
                                      ", expected its SHA-1 " + sha_};
  }
  return Status::Ok();
}

Result<Reply> Script::Run(Pool& pool, const Args& keys, const Args& argv) const {
  Args args;
  args.reserve(3 + keys.size() + argv.size());
  args.insert(args.end(), {"EVALSHA", sha_, std::to_string(keys.size())});
  args.insert(args.end(), keys.begin(), keys.end());
  args.insert(args.end(), argv.begin(), argv.end());
  Result<Reply> reply = pool.Run(args);
  if (!reply.ok()) return reply;
  // The server forgot the script (it restarted, or SCRIPT FLUSH): EVAL sends the text and caches it again.
  if ((*reply)->type == REDIS_REPLY_ERROR && Text(**reply).substr(0, 8) == "NOSCRIPT") {
    args[0] = "EVAL";
    args[1] = text_;
    reply = pool.Run(args);
    if (!reply.ok()) return reply;
  }
  if ((*reply)->type == REDIS_REPLY_ERROR) return ErrorReply(**reply, "script");
  return reply;
}

}  // namespace facefleet::redis
