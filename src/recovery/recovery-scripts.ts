import { CALL_MEMORY_MS } from '../redis/redis-options.js';

/**
 * Lua run inside Redis for recovery. Every key lives under the app's recovery namespace
 * (`recoveryKeys`, `ns` below), whose hash tag puts them in one Cluster slot: the history stream is
 * the one key each script declares (routing), the lease and session keys it derives share its slot. Redis ≥ 7 (`XINFO STREAM` reports
 * `max-deleted-entry-id`).
 *
 *   ns..'history'        stream  one entry per broadcast, all channels: c = channel, b = entry JSON
 *   ns..'sequencer'      string  the lease of the node that appends Laravel's broadcasts (its token)
 *   ns..'rescued'        hash    key -> count (key@ -> offset) of broadcasts a follower appended for the sequencer
 *   ns..'session:'..pid  string  owner token (or a restore's claim), newline, session JSON {sid, channels, members}
 *   ns..'call:'..id      string  an append call that ran, kept `CALL_MEMORY_MS` (see APPEND_SCRIPT)
 *   ns..'index:'..channel zset  the offsets of the history's entries on that channel, scored by their milliseconds
 *   ns..'indexed'        hash    since/last: the history's entries from `since` to `last` are all indexed
 *
 * The index lets a restore read its own channels' entries instead of scanning the whole history
 * after the client's offset: in a reconnect storm every client of a node restores at once, and a
 * scan per restore of everything the app broadcast meanwhile would hold Redis for seconds. The
 * scripts that append keep it (`ADD_PARTS`, through `INDEX_PARTS`); a history entry added
 * without it (by an older version) breaks the chain, and the next append starts it again, so that
 * a restore from before the break scans as before. Scripts derive `ns` from KEYS[1] (`ns..'history'`).
 */

/**
 * Lua shared by the scripts that append and announce: `newest(stream)`, the newest offset a stream
 * holds ('' when none), and `part(id, entry, prev)`, one `[offset, entry(, prev)]` of a notification.
 */
const NOTIFICATION_PARTS = `local function newest(stream)
  local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  return top[1] and top[1][1] or ''
end
local function part(id, entry, prev)
  if prev == nil then return '["' .. id .. '",' .. entry .. ']' end
  return '["' .. id .. '",' .. entry .. ',"' .. prev .. '"]'
end`;

/**
 * Lua shared by the scripts that compare offsets: `offsetParts(id)`, the milliseconds and sequence of
 * an offset (nil when `id` is none), and `earlier(a, b)`, whether offset `a` comes before offset `b`
 * (both offsets).
 */
const OFFSET_PARTS = `local function offsetParts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function earlier(a, b)
  local ams, aseq = offsetParts(a)
  local bms, bseq = offsetParts(b)
  return ams < bms or (ams == bms and aseq < bseq)
end`;

/** Lua: `ns`, the recovery namespace, from KEYS[1] (`ns..'history'`). */
const NAMESPACE_PART = `local ns = string.sub(KEYS[1], 1, #KEYS[1] - #'history')`;

/**
 * Lua shared by the scripts that append: `index(id, channel, ttl)` records the history entry `id`
 * on `channel` in that channel's index; `chain(previous, first, last, ttl)`, once per call that
 * appended `first`..`last` after `previous` (the newest offset before the call, '' for none),
 * moves the chain's `last` on. The chain `since`..`last` goes on only if `previous` is its `last`:
 * otherwise something was added unindexed (or the index expired), and it starts again at `first`.
 * An index keeps its offsets for `ttl` (twice the recovery window), also those the history has
 * trimmed since: a restore tells by them whether anything of its own channels was trimmed, not
 * just whether anything was. What a client can have missed came after its disconnect, within the
 * window, so older offsets are dropped as the channel gets new ones, and an idle index expires.
 * A sorted set, not a stream: most channels (a
 * user's private one) hold one or two recent offsets, about 100 bytes as a small sorted set, where
 * a stream takes a 4 KB node from its first entry.
 */
const INDEX_PARTS = `${NAMESPACE_PART}
local indexed = ns .. 'indexed'
local function index(id, channel, ttl)
  local key = ns .. 'index:' .. channel
  local ms = string.match(id, '^(%d+)-')
  redis.call('ZADD', key, ms, id)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('(%d', tonumber(ms) - tonumber(ttl)))
  redis.call('PEXPIRE', key, ttl)
end
local function chain(previous, first, last, ttl)
  if previous == '' or redis.call('HGET', indexed, 'last') ~= previous then
    redis.call('HSET', indexed, 'since', first)
  end
  redis.call('HSET', indexed, 'last', last)
  redis.call('PEXPIRE', indexed, ttl)
end`;

/**
 * Lua shared by the scripts that append, with the parts above: `add(channel, entry, maxlen, ttl)`
 * appends one entry to the history (KEYS[1]), indexes it, and keeps its notification part;
 * `added(notify, ttl)`, after the last `add`, moves the chain on, extends the history and
 * publishes the notification. `parts` holds the notification's parts (its length: entries added).
 */
const ADD_PARTS = `${NOTIFICATION_PARTS}
${INDEX_PARTS}
local parts, previous, first, last = {}, '', nil, nil
local function add(channel, entry, maxlen, ttl)
  local prev = #parts == 0 and newest(KEYS[1]) or nil
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'c', channel, 'b', entry)
  parts[#parts + 1] = part(id, entry, prev)
  if prev then previous, first = prev, id end
  index(id, channel, ttl)
  last = id
  return id
end
local function added(notify, ttl)
  if #parts == 0 then return end
  chain(previous, first, last, ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PUBLISH', notify, '[' .. table.concat(parts, ',') .. ']')
end`;

/**
 * KEYS[1] history. ARGV: lease key, token ('' for an unfenced append: the HTTP API's), max length,
 * notification channel, ttl ms (an idle history expires), rescued key, the offset up to which this
 * node has read the history ('' if none), then channel/entry pairs. With a token, appends nothing
 * unless that token holds the lease (a deposed sequencer cannot append). Appends the entries in
 * order and publishes them, with their offsets, as one notification `[["<offset>",<entry>,"<prev>"],…]`
 * (`prev`, on the first pair only: the newest offset the history held before this call, '' for
 * none, so that a node that missed a notification sees the gap and reads the history),
 * except a copy of one that a follower rescued (`RESCUE_SCRIPT`) beyond that offset: this node had
 * not seen the rescue when it sent its copy, so its copy is the one rescued (had it seen the
 * rescue, the rescue would have stood for its copy, and a copy sent after it is a new broadcast).
 * Returns {appended, indices of the skipped entries…}.
 *
 * ARGV[8] names this call (a key of its own, unique per call), which keeps the skipped indices.
 * A call that already ran returns {-1, those indices} and changes nothing. A client sends a call
 * again when the connection closed before the reply (ioredis resends unanswered commands on
 * reconnect; a Cluster client retries them on the new master), although Redis may have run it,
 * and its effects reached the replica, before the master died. The first run's notification
 * stands for the call.
 */
export const APPEND_SCRIPT = `
local lease, token, maxlen, notify, ttl, rescued = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if token ~= '' and redis.call('GET', lease) ~= token then
  return redis.error_reply('NOTSEQUENCER this node does not hold the sequencer lease')
end
local ran = redis.call('GET', ARGV[8])
if ran then
  local again = {-1}
  for index in string.gmatch(ran, '%d+') do again[#again + 1] = tonumber(index) end
  return again
end
${OFFSET_PARTS}
local function after(a, b)
  if b == '' then return true end
  if not offsetParts(a) or not offsetParts(b) then return false end
  return earlier(b, a)
end
${ADD_PARTS}
local check = token ~= '' and redis.call('EXISTS', rescued) == 1
local out = {0}
for i = 9, #ARGV, 2 do
  local skip = false
  if check then
    local key = string.match(ARGV[i + 1], '"k":"([%w_%-]+)"}$')
    local count = key and tonumber(redis.call('HGET', rescued, key) or '0') or 0
    if count > 0 and after(redis.call('HGET', rescued, key .. '@') or '', ARGV[7]) then
      redis.call('HINCRBY', rescued, key, -1)
      skip = true
      out[#out + 1] = (i - 9) / 2
    end
  end
  if not skip then add(ARGV[i], ARGV[i + 1], maxlen, ttl) end
end
added(notify, ttl)
out[1] = #parts
redis.call('SET', ARGV[8], table.concat(out, ',', 2), 'PX', ${CALL_MEMORY_MS})
return out
`;

/**
 * KEYS[1] history. ARGV: max length, notification channel, ttl ms, rescued key, how long a rescue
 * is remembered (ms), the offset up to which the rescuing node has seen the history ('' if none),
 * then channel/entry/key triples. Appends, unfenced and in order, entries of Laravel's broadcasts
 * that a follower holds and the sequencer has not appended: skipped are those already appended
 * after the follower's offset (the sequencer got there first, the notification is on its way),
 * its notification is the append script's, `prev` included; and each one appended is counted in the rescued hash (`key` → count, `key@` → its offset) so that
 * the sequencer skips its own copy if its append was on its way. Returns {appended, skipped}, or `BEHIND` when the follower has not yet seen more
 * than 5,000 entries (it tries again once its feed caught up).
 */
export const RESCUE_SCRIPT = `
local maxlen, notify, ttl, rescued, keep, after = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
${ADD_PARTS}
local seen = {}
if after ~= '' then
  local rows = redis.call('XRANGE', KEYS[1], '(' .. after, '+', 'COUNT', 5000)
  if #rows == 5000 then return redis.error_reply('BEHIND the history is far ahead of this node') end
  for _, row in ipairs(rows) do
    local key = string.match(row[2][4], '"k":"([%w_%-]+)"}$')
    if key then seen[key] = (seen[key] or 0) + 1 end
  end
end
local skipped = 0
for i = 7, #ARGV, 3 do
  local key = ARGV[i + 2]
  if (seen[key] or 0) > 0 then
    seen[key] = seen[key] - 1
    skipped = skipped + 1
  else
    local id = add(ARGV[i], ARGV[i + 1], maxlen, ttl)
    redis.call('HINCRBY', rescued, key, 1)
    redis.call('HSET', rescued, key .. '@', id)
  end
end
if #parts > 0 then redis.call('PEXPIRE', rescued, keep) end
added(notify, ttl)
return {#parts, skipped}
`;

/**
 * KEYS[1] history. ARGV: session key, offset ('' when the client has none), most entries to
 * return, this call's claim token (`restored:<call>`). Claims the session, one restore per
 * disconnect: its owner becomes the claim, for `CALL_MEMORY_MS`, until the restored connection writes it (a
 * forced write). Another restore then finds it claimed ({0}); the same call sent again after a
 * lost reply (a failover after the script ran) finds its own claim and answers as before, where a
 * deleted session had turned the client's recovery into a fresh connection. The old connection's
 * late writes and its delete are refused, as for any other owner. Returns {found (0|1),
 * session JSON, the offset read from, last id, max deleted id, first id if entries were trimmed
 * ('' if none were), offset/entry pairs after that offset on the session's channels…}. Without
 * the client's offset it reads from the earliest of the session's join positions (`since`, one
 * per channel), and returns {3} when a channel has none. The ids are '' when the stream does not
 * exist. Trimming (`XADD MAXLEN`) leaves `max-deleted-entry-id` alone (only `XDEL` sets it, Redis
 * 7.0): what was trimmed is told by the first entry kept and `entries-added` exceeding `length`.
 * Returns {2} on a Redis that does not report `entries-added` (before 7.0). The entries come from
 * the channels' indexes when the chain (`INDEX_PARTS`) covers everything after the offset, from a
 * scan of the history otherwise. From the indexes, the max deleted and first ids are '' unless an
 * entry of the session's channels after the offset is gone from the history: an offset the history
 * trimmed past is restored when only other channels' entries went.
 */
export const RESTORE_SCRIPT = `
local stored = redis.call('GET', ARGV[1])
if not stored then return {0} end
local cut = string.find(stored, '\\n', 1, true)
local json = string.sub(stored, cut + 1)
if string.sub(stored, 1, cut - 1) ~= ARGV[4] then
  if string.sub(stored, 1, 9) == 'restored:' then return {0} end
  redis.call('SET', ARGV[1], ARGV[4] .. '\\n' .. json, 'PX', ${CALL_MEMORY_MS})
end
local session = cjson.decode(json)
local from = ARGV[2]
if from == '' then
  local since = session.since
  if type(since) ~= 'table' then return {3} end
  local fromMs, fromSeq
  for _, channel in ipairs(session.channels) do
    local at = since[channel]
    if type(at) ~= 'string' then return {3} end
    local ms, seq = string.match(at, '^(%d+)-(%d+)$')
    if not ms then return {3} end
    ms, seq = tonumber(ms), tonumber(seq)
    if not fromMs or ms < fromMs or (ms == fromMs and seq < fromSeq) then
      fromMs, fromSeq, from = ms, seq, at
    end
  end
  if from == '' then return {3} end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {1, json, from, '', '', ''} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last, deleted, first, added, length = '', '', '', -1, 0
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i + 1] end
  if info[i] == 'max-deleted-entry-id' then deleted = info[i + 1] end
  if info[i] == 'recorded-first-entry-id' then first = info[i + 1] end
  if info[i] == 'entries-added' then added = info[i + 1] end
  if info[i] == 'length' then length = info[i + 1] end
end
-- Redis < 7 does not count entries added: what was trimmed cannot be told.
if added < 0 then return {2} end
if added <= length then first = '' end
local wanted = {}
for _, channel in ipairs(session.channels) do wanted[channel] = true end
local out = {1, json, from, last, deleted, first}
local limit = tonumber(ARGV[3])
${OFFSET_PARTS}
${NAMESPACE_PART}
local chain = redis.call('HMGET', ns .. 'indexed', 'since', 'last')
if chain[1] and chain[2] == last and offsetParts(from) and not earlier(from, chain[1]) then
  local ids = {}
  local fromMs = string.match(from, '^(%d+)-')
  for channel in pairs(wanted) do
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', ns .. 'index:' .. channel, fromMs, '+inf')) do
      if earlier(from, id) then ids[#ids + 1] = id end
    end
  end
  table.sort(ids, earlier)
  local gone = false
  for i = 1, math.min(#ids, limit) do
    local entry = redis.call('XRANGE', KEYS[1], ids[i], ids[i])[1]
    if entry then
      out[#out + 1] = entry[1]
      out[#out + 1] = entry[2][4]
    else
      gone = true
    end
  end
  -- None of the session's entries after the offset is gone: what the history trimmed or deleted
  -- was other channels', and the client missed none of it.
  if not gone then out[5], out[6] = '', '' end
  return out
end
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '(' .. from, '+', 'COUNT', limit)) do
  local fields = entry[2]
  if wanted[fields[2]] then
    out[#out + 1] = entry[1]
    out[#out + 1] = fields[4]
  end
end
return out
`;

/**
 * KEYS[1] history (routing only). ARGV: groups of five, one per session: session key, owner token,
 * session JSON, ttl ms (0: delete it), force ('1' or '0'), applied in order. Writes each session unless another
 * connection owns it (a client that recovered elsewhere while this node had not yet noticed the
 * old connection's end); `force` takes it over. One call carries every write queued meanwhile
 * (`RecoveryLog.saveSession`), so a burst of subscribes costs Redis and this node one round trip,
 * not one per subscribe. Returns how many were written.
 */
export const SAVE_SESSIONS_SCRIPT = `
local written = 0
for i = 1, #ARGV, 5 do
  local key, owner = ARGV[i], ARGV[i + 1]
  local allowed = true
  if ARGV[i + 4] ~= '1' then
    local stored = redis.call('GET', key)
    if stored and string.sub(stored, 1, #owner + 1) ~= owner .. '\\n' then allowed = false end
  end
  if allowed then
    if ARGV[i + 3] == '0' then
      redis.call('DEL', key)
    else
      redis.call('SET', key, owner .. '\\n' .. ARGV[i + 2], 'PX', ARGV[i + 3])
    end
    written = written + 1
  end
end
return written
`;

/** KEYS[1] history (routing only). ARGV: lease key, token, ms. Extends the lease if the token holds it. */
export const RENEW_LEASE_SCRIPT = `
if redis.call('GET', ARGV[1]) == ARGV[2] then
  redis.call('PEXPIRE', ARGV[1], ARGV[3])
  return 1
end
return 0
`;

/** KEYS[1] history (routing only). ARGV: lease key, token. Gives the lease up if the token holds it. */
export const RELEASE_LEASE_SCRIPT = `
if redis.call('GET', ARGV[1]) == ARGV[2] then
  redis.call('DEL', ARGV[1])
  return 1
end
return 0
`;
