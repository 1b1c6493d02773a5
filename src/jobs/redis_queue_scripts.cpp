// The Lua scripts of the Redis job queue. Each job change is one script, so Redis runs it atomically: no other
// client sees a job hash that disagrees with its indexes, two workers can never take the same job, and the AOF
// records the script's writes as one transaction (all or nothing after a crash).
//
// Every script starts with the prelude below and gets the same first three arguments:
//   ARGV[1] key prefix   ARGV[2] finished-job TTL in ms (0 = none)   ARGV[3] dead-letter stream cap
// Its own arguments follow from ARGV[4]. Keys are built from the prefix inside the scripts (the job a Lease
// finds is not known beforehand), so the queue needs a single Redis shard (or a hash-tagged prefix).
//
// Times come from the server (TIME), so workers on machines with skewed clocks agree on lease expiry. Lua numbers
// are doubles: millisecond timestamps (< 2^53) are exact, and n2s() writes them without an exponent.
#include <utility>

#include "jobs/redis_queue_internal.hpp"

namespace facefleet::jobs::redis {
namespace {

constexpr const char* kPrelude = R"lua(
local P = ARGV[1]
local TTL = tonumber(ARGV[2])
local DEAD_MAX = ARGV[3]
local STREAM = P .. 'jobs'
local GROUP = 'workers'
local function jkey(id) return P .. 'job:' .. id end
local function idem_key(owner, key) return P .. 'idem:' .. #owner .. ':' .. owner .. ':' .. key end
local function n2s(n) return string.format('%d', n) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function load(id)
  local flat = redis.call('HGETALL', jkey(id))
  if #flat == 0 then return nil end
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end
local function stat(field, delta) redis.call('HINCRBY', P .. 'stats', field, delta) end
local function bump(id, now)
  redis.call('HINCRBY', jkey(id), 'version', 1)
  redis.call('HSET', jkey(id), 'updated_ms', n2s(now))
end
-- Byte-wise a < b (Lua's own < follows the server's locale; Redis orders members with memcmp).
local function bytes_less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local function last_delivered()
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', STREAM)) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == GROUP then return f['last-delivered-id'] end
  end
  return '0-0'
end
-- Acknowledges an entry, then trims what no one needs any more: entries older than both the oldest pending one
-- and the group's read position. Trimming (unlike XDEL) keeps XINFO GROUPS' lag exact for autoscalers.
local function ack(entry)
  if entry == nil or entry == '' then return end
  redis.call('XACK', STREAM, GROUP, entry)
  local oldest = redis.call('XPENDING', STREAM, GROUP, '-', '+', 1)
  local keep = last_delivered()
  if #oldest > 0 then keep = oldest[1][1] end
  redis.call('XTRIM', STREAM, 'MINID', '~', keep)
end
-- A consumer exists only while it holds pending entries: XINFO CONSUMERS then lists the workers holding jobs, and
-- the group does not keep one consumer for every worker id that ever polled.
local function forget_idle(consumer)
  if consumer == nil or consumer == '' then return end
  if #redis.call('XPENDING', STREAM, GROUP, '-', '+', 1, consumer) == 0 then
    redis.call('XGROUP', 'DELCONSUMER', STREAM, GROUP, consumer)
  end
end
-- A new stream entry: the job waits for a worker at the end of the line.
local function enqueue(id)
  redis.call('HSET', jkey(id), 'entry', redis.call('XADD', STREAM, '*', 'id', id))
end
-- The holder's entry is no longer pending. Scripts do this before their other writes: a script that fails midway
-- keeps its earlier writes, and this is the step that fails when the stream or group was lost (NOGROUP). A queued
-- job's entry is not pending (not delivered yet, or already acknowledged): Lease skips it later.
local function drop_entry(h)
  if h.status ~= 'running' then return end
  ack(h.entry)
  forget_idle(h.worker_id)
end
local function finish(id, h, status, code, msg, dead, now)
  local k = jkey(id)
  drop_entry(h)
  redis.call('HSET', k, 'status', status, 'error_code', code, 'error_message', msg, 'dead_letter',
             dead and '1' or '0', 'finished_ms', n2s(now), 'lease_expires_ms', '0')
  bump(id, now)
  redis.call('ZREM', P .. 'leases', id)
  redis.call('ZREM', P .. 'delayed', id)
  redis.call('SREM', P .. 'active:' .. h.owner, id)
  redis.call('ZADD', P .. 'finished', now, id)
  stat(h.status, -1)
  stat(status, 1)
  if dead then
    stat('dead_letters', 1)
    redis.call('XADD', P .. 'dead', 'MAXLEN', '~', DEAD_MAX, '*', 'id', id, 'owner', h.owner, 'error_code', code,
               'error_message', msg, 'attempts', h.attempts, 'finished_ms', n2s(now))
  end
  if TTL > 0 then
    redis.call('PEXPIRE', k, TTL)
    local ik = idem_key(h.owner, h.idempotency_key)
    if h.idempotency_key ~= '' and redis.call('GET', ik) == id then redis.call('PEXPIRE', ik, TTL) end
  end
end
local function requeue(id, h, attempts, not_before, now)
  drop_entry(h)
  redis.call('HSET', jkey(id), 'status', 'queued', 'worker_id', '', 'lease_expires_ms', '0', 'not_before_ms',
             n2s(not_before), 'attempts', n2s(attempts), 'error_code', '', 'error_message', '', 'entry', '')
  bump(id, now)
  redis.call('ZREM', P .. 'leases', id)
  if not_before > now then redis.call('ZADD', P .. 'delayed', not_before, id) else enqueue(id) end
  stat('running', -1)
  stat('queued', 1)
end
local function held(id, worker)
  local h = load(id)
  if h and h.status == 'running' and h.worker_id == worker then return h end
  return nil
end
)lua";

// ARGV[4] id, [5] owner, [6] idempotency key, [7..] the job hash's fields as name/value pairs.
constexpr const char* kSubmit = R"lua(
local id, owner, key = ARGV[4], ARGV[5], ARGV[6]
if key ~= '' then
  local earlier = redis.call('GET', idem_key(owner, key))
  if earlier then
    local flat = redis.call('HGETALL', jkey(earlier))
    if #flat > 0 then return {'existing', flat} end
  end
end
if redis.call('EXISTS', jkey(id)) == 1 then return {'duplicate'} end
local now = now_ms()
local fields = {}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', jkey(id), unpack(fields))
redis.call('HSET', jkey(id), 'created_ms', n2s(now), 'updated_ms', n2s(now))
redis.call('ZADD', P .. 'owner:' .. owner, now, id)
redis.call('SADD', P .. 'active:' .. owner, id)
if key ~= '' then redis.call('SET', idem_key(owner, key), id) end
enqueue(id)
stat('queued', 1)
return {'created', n2s(now)}
)lua";

// ARGV[4] worker, [5] lease ms, [6] how many entries one call may examine.
// Order: lapsed leases (older than anything not yet delivered), then retries whose back-off ended (they rejoin
// the stream), then new entries. Returns {'job', fields} or {'none', now, next_ready, last_id, more}.
constexpr const char* kLease = R"lua(
local worker, lease, budget = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()
local function take(id, h)
  local k = jkey(id)
  redis.call('HSET', k, 'status', 'running', 'worker_id', worker, 'lease_expires_ms', n2s(now + lease),
             'started_ms', n2s(now), 'frames_done', '0', 'frames_total', '0')
  redis.call('HINCRBY', k, 'attempts', 1)
  bump(id, now)
  redis.call('ZADD', P .. 'leases', now + lease, id)
  if h.status == 'queued' then
    stat('queued', -1)
    stat('running', 1)
  end
  return {'job', redis.call('HGETALL', k)}
end
while budget > 0 do
  local lapsed = redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', '(' .. n2s(now), 'LIMIT', 0, 1)
  if #lapsed == 0 then break end
  budget = budget - 1
  local id = lapsed[1]
  local h = load(id)
  if not h or h.status ~= 'running' then
    redis.call('ZREM', P .. 'leases', id)
  elseif h.cancel_requested == '1' then
    finish(id, h, 'canceled', 'canceled',
           "canceled by request (worker '" .. h.worker_id .. "' stopped renewing its lease)", false, now)
  elseif tonumber(h.attempts) >= tonumber(h.max_attempts) then
    finish(id, h, 'failed', 'internal', 'worker lost on attempt ' .. h.attempts .. ' of ' .. h.max_attempts ..
           " (worker '" .. h.worker_id .. "' stopped renewing its lease); no attempts left", true, now)
  else
    -- Moves the pending entry to the new holder (and counts the delivery), as XAUTOCLAIM would.
    if h.entry ~= '' then redis.call('XCLAIM', STREAM, GROUP, worker, 0, h.entry) end
    forget_idle(h.worker_id)
    return take(id, h)
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', n2s(now), 'LIMIT', 0, 100)) do
  redis.call('ZREM', P .. 'delayed', id)
  local h = load(id)
  if h and h.status == 'queued' then enqueue(id) end
end
while budget > 0 do
  local got = redis.call('XREADGROUP', 'GROUP', GROUP, worker, 'COUNT', 1, 'STREAMS', STREAM, '>')
  if not got then break end
  budget = budget - 1
  local eid, fields = got[1][2][1][1], got[1][2][1][2]
  local h = fields and load(fields[2])
  if h and h.status == 'queued' and h.entry == eid then
    if tonumber(h.not_before_ms) <= now then return take(fields[2], h) end
    redis.call('HSET', jkey(fields[2]), 'entry', '')
    redis.call('ZADD', P .. 'delayed', h.not_before_ms, fields[2])
  end
  -- Canceled, deleted or superseded by a newer entry of the same job: nothing to run.
  ack(eid)
end
local next_ready = 0
local d = redis.call('ZRANGE', P .. 'delayed', 0, 0, 'WITHSCORES')
if #d > 0 then next_ready = tonumber(d[2]) end
local l = redis.call('ZRANGE', P .. 'leases', 0, 0, 'WITHSCORES')
if #l > 0 and (next_ready == 0 or tonumber(l[2]) + 1 < next_ready) then next_ready = tonumber(l[2]) + 1 end
local last = redis.call('XREVRANGE', STREAM, '+', '-', 'COUNT', 1)
local last_id = '0-0'
if #last > 0 then last_id = last[1][1] end
local more = '0'
if budget <= 0 then more = '1' end
forget_idle(worker)
return {'none', n2s(now), n2s(next_ready), last_id, more}
)lua";

// ARGV[4] id, [5] worker, [6] lease ms, [7] frames done, [8] frames total. Returns {'ok', cancel_requested}.
constexpr const char* kRenew = R"lua(
local id, worker = ARGV[4], ARGV[5]
local h = held(id, worker)
if not h then return {'lost'} end
-- Resets the entry's idle time, so XPENDING shows live jobs as fresh and an XAUTOCLAIM never takes them.
if h.entry ~= '' then redis.call('XCLAIM', STREAM, GROUP, worker, 0, h.entry, 'JUSTID') end
local now = now_ms()
local expires = now + tonumber(ARGV[6])
redis.call('HSET', jkey(id), 'lease_expires_ms', n2s(expires), 'frames_done', ARGV[7], 'frames_total', ARGV[8])
bump(id, now)
redis.call('ZADD', P .. 'leases', expires, id)
return {'ok', h.cancel_requested}
)lua";

// ARGV[4] id, [5] worker, [6] result key.
constexpr const char* kComplete = R"lua(
local id, worker, result = ARGV[4], ARGV[5], ARGV[6]
local h = load(id)
if h and h.status == 'succeeded' and h.worker_id == worker and h.result_key == result then return {'ok'} end
if not h or h.status ~= 'running' or h.worker_id ~= worker then return {'lost'} end
redis.call('HSET', jkey(id), 'result_key', result)
finish(id, h, 'succeeded', '', '', false, now_ms())
return {'ok'}
)lua";

// ARGV[4] id, [5] worker, [6] error code name, [7] message, [8] retryable '1'/'0', [9] back-off ms,
// [10] '1' when the error is kCanceled.
constexpr const char* kFail = R"lua(
local id, worker = ARGV[4], ARGV[5]
local h = held(id, worker)
if not h then return {'lost'} end
local now = now_ms()
if ARGV[10] == '1' and h.cancel_requested == '1' then
  finish(id, h, 'canceled', ARGV[6], ARGV[7], false, now)
elseif ARGV[8] == '1' and tonumber(h.attempts) < tonumber(h.max_attempts) then
  requeue(id, h, tonumber(h.attempts), now + tonumber(ARGV[9]), now)
else
  finish(id, h, 'failed', ARGV[6], ARGV[7], true, now)
end
return {'ok'}
)lua";

// ARGV[4] id, [5] worker.
constexpr const char* kRelease = R"lua(
local id, worker = ARGV[4], ARGV[5]
local h = held(id, worker)
if not h then return {'lost'} end
local now = now_ms()
if h.cancel_requested == '1' then
  -- Nobody is left to stop it: the job ends canceled.
  finish(id, h, 'canceled', 'canceled', 'canceled by request', false, now)
else
  requeue(id, h, math.max(tonumber(h.attempts) - 1, 0), 0, now)
end
return {'ok'}
)lua";

// ARGV[4] owner ('' = any), [5] id. Returns {'ok', fields} | {'notfound'} | {'conflict', status}.
constexpr const char* kCancel = R"lua(
local owner, id = ARGV[4], ARGV[5]
local h = load(id)
if not h or (owner ~= '' and h.owner ~= owner) then return {'notfound'} end
if h.status == 'succeeded' or h.status == 'failed' or h.status == 'canceled' then return {'conflict', h.status} end
local now = now_ms()
if h.status == 'queued' then
  finish(id, h, 'canceled', 'canceled', 'canceled by request', false, now)
elseif h.cancel_requested ~= '1' then
  redis.call('HSET', jkey(id), 'cancel_requested', '1')
  bump(id, now)
end
return {'ok', redis.call('HGETALL', jkey(id))}
)lua";

// ARGV[4] owner ('' = any), [5] id.
constexpr const char* kDelete = R"lua(
local owner, id = ARGV[4], ARGV[5]
local h = load(id)
if not h or (owner ~= '' and h.owner ~= owner) then return {'notfound'} end
-- The holder of a running job loses its lease with the hash.
drop_entry(h)
redis.call('DEL', jkey(id))
redis.call('ZREM', P .. 'owner:' .. h.owner, id)
redis.call('SREM', P .. 'active:' .. h.owner, id)
redis.call('ZREM', P .. 'finished', id)
redis.call('ZREM', P .. 'leases', id)
redis.call('ZREM', P .. 'delayed', id)
if h.idempotency_key ~= '' and redis.call('GET', idem_key(h.owner, h.idempotency_key)) == id then
  redis.call('DEL', idem_key(h.owner, h.idempotency_key))
end
stat(h.status, -1)
if h.dead_letter == '1' then stat('dead_letters', -1) end
return {'ok'}
)lua";

// ARGV[4] owner, [5] status name or '', [6] cursor created_ms or '' (first page), [7] cursor id, [8] how many.
// Newest first by (created_ms, id), like the SQLite backend. Hashes that expired are dropped from the index.
constexpr const char* kList = R"lua(
local owner, want, limit = ARGV[4], ARGV[5], tonumber(ARGV[8])
local has_cursor, cursor_ms, cursor_id = ARGV[6] ~= '', tonumber(ARGV[6]), ARGV[7]
local key = P .. 'owner:' .. owner
local max = '+inf'
if has_cursor then max = ARGV[6] end
local out, stale, offset = {}, {}, 0
while #out < limit do
  local batch = redis.call('ZREVRANGEBYSCORE', key, max, '-inf', 'WITHSCORES', 'LIMIT', offset, 100)
  if #batch == 0 then break end
  offset = offset + #batch / 2
  for i = 1, #batch, 2 do
    local id = batch[i]
    if not has_cursor or tonumber(batch[i + 1]) < cursor_ms or bytes_less(id, cursor_id) then
      local status = redis.call('HGET', jkey(id), 'status')
      if not status then
        stale[#stale + 1] = id
      elseif want == '' or status == want then
        out[#out + 1] = redis.call('HGETALL', jkey(id))
        if #out >= limit then break end
      end
    end
  end
end
for _, id in ipairs(stale) do redis.call('ZREM', key, id) end
return out
)lua";

// ARGV[4] finished before (ms, exclusive), [5] at most this many. Oldest first.
constexpr const char* kFinishedBefore = R"lua(
local before, limit = ARGV[4], tonumber(ARGV[5])
local out, stale, offset = {}, {}, 0
while #out < limit do
  local ids = redis.call('ZRANGEBYSCORE', P .. 'finished', '-inf', '(' .. before, 'LIMIT', offset, 100)
  if #ids == 0 then break end
  offset = offset + #ids
  for _, id in ipairs(ids) do
    local flat = redis.call('HGETALL', jkey(id))
    if #flat == 0 then
      stale[#stale + 1] = id
    else
      out[#out + 1] = flat
      if #out >= limit then break end
    end
  end
end
for _, id in ipairs(stale) do redis.call('ZREM', P .. 'finished', id) end
return out
)lua";

constexpr std::array<const char*, static_cast<std::size_t>(Script::kCount)> kBodies = {
    kSubmit, kLease, kRenew, kComplete, kFail, kRelease, kCancel, kDelete, kList, kFinishedBefore};

}  // namespace

Scripts::Scripts() {
  scripts_.reserve(kBodies.size());
  for (const char* body : kBodies) scripts_.emplace_back(std::string(kPrelude) + body);
}

Status Scripts::Load(Pool& pool) const {
  for (const facefleet::redis::Script& script : scripts_) {
    if (Status s = script.Load(pool); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<Reply> Scripts::Run(Pool& pool, Script script, const Args& argv) const {
  // No KEYS: the scripts build their keys from the prefix (ARGV[1]); see the top of this file.
  return scripts_[static_cast<std::size_t>(script)].Run(pool, {}, argv);
}

}  // namespace facefleet::jobs::redis
