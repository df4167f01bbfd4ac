/**
 * Lua run inside Redis for recovery. Every key lives under `RECOVERY_NAMESPACE`, whose hash tag
 * puts them in one Cluster slot: the history stream is the one key each script declares (routing),
 * the lease and session keys it derives share its slot. Redis ≥ 7 (`XINFO STREAM` reports
 * `max-deleted-entry-id`).
 *
 *   ns..'history'        stream  one entry per broadcast, all channels: c = channel, b = entry JSON
 *   ns..'sequencer'      string  the lease of the node that appends Laravel's broadcasts (its token)
 *   ns..'session:'..pid  string  owner token, newline, session JSON {sid, channels, members}
 */

/**
 * KEYS[1] history. ARGV: lease key, token ('' for an unfenced append), max length, notification
 * channel, ttl ms (an idle history expires), then channel/entry pairs. Appends the entries in order and publishes them, with their
 * offsets, as one notification `[["<offset>",<entry>],…]`. With a token, appends nothing unless
 * that token holds the lease (a deposed sequencer cannot append).
 */
export const APPEND_SCRIPT = `
local lease, token, maxlen, notify, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if token ~= '' and redis.call('GET', lease) ~= token then
  return redis.error_reply('NOTSEQUENCER this node does not hold the sequencer lease')
end
local parts = {}
for i = 6, #ARGV, 2 do
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'c', ARGV[i], 'b', ARGV[i + 1])
  parts[#parts + 1] = '["' .. id .. '",' .. ARGV[i + 1] .. ']'
end
if #parts > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PUBLISH', notify, '[' .. table.concat(parts, ',') .. ']')
end
return #parts
`;

/**
 * KEYS[1] history. ARGV: session key, offset, most entries to return. Claims the session (deletes
 * it: one restore per disconnect) and returns {found (0|1), session JSON, last id, max deleted id,
 * first id if entries were trimmed ('' if none were), offset/entry pairs after `offset` on the
 * session's channels…}. The ids are '' when the stream does not exist. Trimming (`XADD MAXLEN`)
 * leaves `max-deleted-entry-id` alone (only `XDEL` sets it, Redis 7.0): what was trimmed is told by
 * the first entry kept and `entries-added` exceeding `length`. Returns {2} on a Redis that does not
 * report `entries-added` (before 7.0).
 */
export const RESTORE_SCRIPT = `
local stored = redis.call('GET', ARGV[1])
if not stored then return {0} end
redis.call('DEL', ARGV[1])
local json = string.sub(stored, string.find(stored, '\\n', 1, true) + 1)
if redis.call('EXISTS', KEYS[1]) == 0 then return {1, json, '', '', ''} end
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
for _, channel in ipairs(cjson.decode(json).channels) do wanted[channel] = true end
local out = {1, json, last, deleted, first}
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+', 'COUNT', tonumber(ARGV[3]))) do
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
 * session JSON, ttl ms, force ('1' or '0'), applied in order. Writes each session unless another
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
    redis.call('SET', key, owner .. '\\n' .. ARGV[i + 2], 'PX', ARGV[i + 3])
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
