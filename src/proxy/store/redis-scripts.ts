/**
 * The Lua scripts of `redisStore`: each update that touches more than one key
 * runs as one script, so racing instances see it whole or not at all.
 *
 * Every script gets the key prefix as `ARGV[1]` and builds its keys from it
 * (a session's user set is only known once its record is read), which is
 * fine on one Redis server (or a primary with replicas), not on Redis Cluster.
 * Times in records are the caller's milliseconds; "now" for expiry is the
 * Redis server's clock (`TIME`), the same clock that expires the keys.
 *
 * Key layout, under the prefix (`kwg:` by default):
 *
 * | key                 | type   | holds                                          | lives until            |
 * |---------------------|--------|------------------------------------------------|------------------------|
 * | `session:<id>`      | hash   | userId, createdAt, expiresAt, lastSeenAt, pages | the session's expiresAt |
 * | `user:<userId>`     | zset   | that user's session ids by createdAt           | its last session's expiry |
 * | `sessions`          | zset   | every session id by createdAt                  | the last session's expiry |
 * | `seen`              | zset   | every session id by lastSeenAt                 | the last session's expiry |
 * | `expiry`            | zset   | every session id by expiresAt (for pruning)    | the last session's expiry |
 * | `delete:<id>`       | hash   | userId, reason, attempts, dueAt, expiresAt     | the entry's expiresAt  |
 * | `deletes`           | zset   | queued session ids by dueAt                    | the last entry's expiry |
 * | `lease:<key>`       | string | the owner                                      | its ttl                |
 * | `claim:<key>`       | string | `1`                                            | its ttl                |
 * | `hit:<key>`         | string | the window's count                             | the window's end       |
 * | `feed`              | stream | sessionId, userId, reason, at                  | `feedTtlMs` after the last entry |
 */
import { defineScript } from 'redis';

/** Helpers every script starts with. */
const PRELUDE = `
local P = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- An index lives as long as the longest-lived record in it: its expiry only moves later.
local function index(key, score, member, untilMs)
  redis.call('ZADD', key, score, member)
  local current = redis.call('PEXPIRETIME', key)
  if current < 0 or current < tonumber(untilMs) then redis.call('PEXPIREAT', key, untilMs) end
end
local function unindex(sid, userId)
  redis.call('ZREM', P .. 'sessions', sid)
  redis.call('ZREM', P .. 'seen', sid)
  redis.call('ZREM', P .. 'expiry', sid)
  if userId then redis.call('ZREM', P .. 'user:' .. userId, sid) end
end
local FIELDS = {'userId', 'createdAt', 'expiresAt', 'lastSeenAt', 'pages'}
-- A live record as {sid, userId, createdAt, expiresAt, lastSeenAt, pages}, or nil.
local function record(sid, t)
  local r = redis.call('HMGET', P .. 'session:' .. sid, unpack(FIELDS))
  if not r[1] or tonumber(r[3]) <= t then return nil end
  return {sid, r[1], r[2], r[3], r[4], r[5]}
end
-- Drops expired ids from the global indexes (their records expired with them); a bounded batch per call.
local function prune(t)
  local gone = redis.call('ZRANGE', P .. 'expiry', '-inf', t, 'BYSCORE', 'LIMIT', 0, 500)
  if #gone > 0 then
    redis.call('ZREM', P .. 'expiry', unpack(gone))
    redis.call('ZREM', P .. 'sessions', unpack(gone))
    redis.call('ZREM', P .. 'seen', unpack(gone))
  end
end
-- A user's live records, oldest first; ids whose record is gone leave the user's set.
local function userRecords(userId, t)
  local key = P .. 'user:' .. userId
  local live = {}
  for _, sid in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    local r = record(sid, t)
    if r and r[2] == userId then table.insert(live, r) else redis.call('ZREM', key, sid) end
  end
  return live
end
`;

/** A script of this store: a prelude, a body, and the arguments as strings (the prefix first). */
function script(body: string) {
  return defineScript({
    SCRIPT: `${PRELUDE}\n${body}`,
    // No keys declared: each script derives its keys from the prefix (see above).
    NUMBER_OF_KEYS: 0,
    parseCommand(parser, args: readonly string[]) {
      parser.push(...args);
    },
    transformReply: (reply: unknown) => reply,
  });
}

export const scripts = {
  /** ARGV: prefix, sessionId, userId, createdAt, expiresAt, lastSeenAt, pages, expireAtMs. */
  kwgRegister: script(`
local sid = ARGV[2]
local key = P .. 'session:' .. sid
unindex(sid, redis.call('HGET', key, 'userId'))
redis.call('DEL', key)
if tonumber(ARGV[5]) <= now() then return 0 end
redis.call('HSET', key, 'userId', ARGV[3], 'createdAt', ARGV[4], 'expiresAt', ARGV[5], 'lastSeenAt', ARGV[6], 'pages', ARGV[7])
redis.call('PEXPIREAT', key, ARGV[8])
index(P .. 'user:' .. ARGV[3], ARGV[4], sid, ARGV[8])
index(P .. 'sessions', ARGV[4], sid, ARGV[8])
index(P .. 'seen', ARGV[6], sid, ARGV[8])
index(P .. 'expiry', ARGV[5], sid, ARGV[8])
return 1
`),

  /** ARGV: prefix, at, pages ('' when unknown), sessionId… */
  kwgTouch: script(`
local at, pages = ARGV[2], ARGV[3]
for i = 4, #ARGV do
  local sid = ARGV[i]
  local key = P .. 'session:' .. sid
  local last = redis.call('HGET', key, 'lastSeenAt')
  if last then
    -- Reports may arrive out of order from several instances: last seen only moves forward.
    if tonumber(at) > tonumber(last) then
      redis.call('HSET', key, 'lastSeenAt', at)
      redis.call('ZADD', P .. 'seen', at, sid)
    end
    if pages ~= '' then redis.call('HSET', key, 'pages', pages) end
  end
end
return 0
`),

  /** ARGV: prefix, userId ('' for all). Live records, oldest first. */
  kwgList: script(`
local t = now()
prune(t)
if ARGV[2] ~= '' then return userRecords(ARGV[2], t) end
local live = {}
for _, sid in ipairs(redis.call('ZRANGE', P .. 'sessions', 0, -1)) do
  local r = record(sid, t)
  if r then table.insert(live, r) end
end
return live
`),

  /** ARGV: prefix, userId ('' for all). */
  kwgCount: script(`
local t = now()
if ARGV[2] ~= '' then return #userRecords(ARGV[2], t) end
-- Exact even when more expired than one prune batch: every live id is in both sets.
local total = redis.call('ZCARD', P .. 'sessions') - redis.call('ZCOUNT', P .. 'expiry', '-inf', t)
prune(t)
return total
`),

  /** ARGV: prefix, sessionId. The live record, removed, or nil. */
  kwgUnregister: script(`
local sid = ARGV[2]
local r = record(sid, now())
unindex(sid, redis.call('HGET', P .. 'session:' .. sid, 'userId'))
redis.call('DEL', P .. 'session:' .. sid)
return r
`),

  /**
   * ARGV: prefix, maxEntries, ttlMs, sessionId, reason, expiredReason, at. kwgUnregister and, when it took
   * the record, kwgPublish of its end (expiredReason for a record whose expiresAt is at or before at).
   */
  kwgUnregisterAndPublish: script(`
local sid = ARGV[4]
local r = record(sid, now())
unindex(sid, redis.call('HGET', P .. 'session:' .. sid, 'userId'))
redis.call('DEL', P .. 'session:' .. sid)
if not r then return nil end
local reason = ARGV[5]
if tonumber(r[4]) <= tonumber(ARGV[7]) then reason = ARGV[6] end
local key = P .. 'feed'
redis.call('XADD', key, 'MAXLEN', '~', ARGV[2], '*', 'sessionId', sid, 'userId', r[2], 'reason', reason, 'at', ARGV[7])
redis.call('PEXPIRE', key, ARGV[3])
return r
`),

  /** ARGV: prefix, seenBefore, limit. Least recently seen first. */
  kwgStale: script(`
local t = now()
prune(t)
local limit = tonumber(ARGV[3])
local found = {}
local offset = 0
while #found < limit do
  local ids = redis.call('ZRANGE', P .. 'seen', '-inf', '(' .. ARGV[2], 'BYSCORE', 'LIMIT', offset, limit)
  if #ids == 0 then break end
  offset = offset + #ids
  for _, sid in ipairs(ids) do
    local r = record(sid, t)
    if r and #found < limit then table.insert(found, r) end
  end
end
return found
`),

  /** ARGV: prefix, sessionId, userId, reason, attempts, dueAt, expiresAt, expireAtMs. */
  kwgEnqueueDelete: script(`
local sid = ARGV[2]
local key = P .. 'delete:' .. sid
redis.call('DEL', key)
redis.call('ZREM', P .. 'deletes', sid)
if tonumber(ARGV[7]) <= now() then return 0 end
redis.call('HSET', key, 'userId', ARGV[3], 'reason', ARGV[4], 'attempts', ARGV[5], 'dueAt', ARGV[6], 'expiresAt', ARGV[7])
redis.call('PEXPIREAT', key, ARGV[8])
index(P .. 'deletes', ARGV[6], sid, ARGV[8])
return 1
`),

  /** ARGV: prefix, now (the caller's), limit. Due entries, soonest first, as {sid, userId, reason, attempts, dueAt, expiresAt}. */
  kwgDueDeletes: script(`
local t = now()
local limit = tonumber(ARGV[3])
local due = {}
while #due < limit do
  -- Expired entries leave the queue as they are met, so the next page starts after the kept ones.
  local ids = redis.call('ZRANGE', P .. 'deletes', '-inf', ARGV[2], 'BYSCORE', 'LIMIT', #due, limit)
  if #ids == 0 then break end
  for _, sid in ipairs(ids) do
    local r = redis.call('HMGET', P .. 'delete:' .. sid, 'userId', 'reason', 'attempts', 'dueAt', 'expiresAt')
    if r[1] and tonumber(r[5]) > t then
      if #due < limit then table.insert(due, {sid, r[1], r[2], r[3], r[4], r[5]}) end
    else
      redis.call('ZREM', P .. 'deletes', sid)
      redis.call('DEL', P .. 'delete:' .. sid)
    end
  end
end
return due
`),

  /** ARGV: prefix, sessionId. */
  kwgDequeueDelete: script(`
redis.call('DEL', P .. 'delete:' .. ARGV[2])
redis.call('ZREM', P .. 'deletes', ARGV[2])
return 0
`),

  /** ARGV: prefix, key, owner, ttlMs. 1 when the owner holds the lease now (taken or renewed). */
  kwgLease: script(`
local key = P .. 'lease:' .. ARGV[2]
if redis.call('SET', key, ARGV[3], 'NX', 'PX', ARGV[4]) then return 1 end
if redis.call('GET', key) == ARGV[3] then
  redis.call('PEXPIRE', key, ARGV[4])
  return 1
end
return 0
`),

  /** ARGV: prefix, key, owner. */
  kwgRelease: script(`
local key = P .. 'lease:' .. ARGV[2]
if redis.call('GET', key) == ARGV[3] then redis.call('DEL', key) end
return 0
`),

  /** ARGV: prefix, key, windowMs. {count, the window's end}: one end for every hit in the window. */
  kwgHit: script(`
local key = P .. 'hit:' .. ARGV[2]
local count = redis.call('INCR', key)
redis.call('PEXPIRE', key, ARGV[3], 'NX')
return {count, redis.call('PEXPIRETIME', key)}
`),

  /** ARGV: prefix, maxEntries, ttlMs, sessionId, userId, reason, at. The new entry's id. */
  kwgPublish: script(`
local key = P .. 'feed'
local id = redis.call('XADD', key, 'MAXLEN', '~', ARGV[2], '*',
  'sessionId', ARGV[4], 'userId', ARGV[5], 'reason', ARGV[6], 'at', ARGV[7])
redis.call('PEXPIRE', key, ARGV[3])
return id
`),
};
