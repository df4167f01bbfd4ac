import { ROOM_PREFIX } from './room-entry.js';
import { PUBLISH_MEMBERS } from './presence-publish-script.js';
import { HOOK_FUNCTIONS } from '../webhooks/webhook-scripts.js';

/**
 * Lua run inside Redis, so "is this the user's first socket?" and "was it the last?" are decided
 * atomically across every node. Layout under the namespace `ns`:
 *
 *   ns..'ch:'..channel..':sockets'  hash  entry key → user key
 *   ns..'ch:'..channel..':counts'   hash  user key  → entries of that user in the channel
 *   ns..'ch:'..channel..':users'    hash  user key  → member JSON {user_id, user_info}
 *   ns..'node:'..node               set   "entryKey channel" entries a node registered
 *   ns..'nodes'                     zset  node id → lease expiry (ms, Redis clock)
 *   ns..'pulse'                     string  when any node last renewed its lease (ms, Redis clock)
 *   ns..'settling'                  string  while set (a lease after a silence), nobody's lease is swept
 *   ns..'purged:'..node             string  set when another node purged this one's entries (and
 *                                           announced its members' departures); read and deleted
 *                                           by that node's next heartbeat, expires after a day
 *
 * An entry key is one socket connection's: its socket id and a suffix of its own (no spaces), so a
 * recovered socket, same id on a new connection, is a second entry of its user while the old one
 * is still stored (see `PresenceService`).
 *
 * A channel named `room <channel>` (see `roomKey`) holds the occupancy of any channel for the
 * webhooks, one pseudo user; the webhook keys (`wh:*`) are described in `HOOK_FUNCTIONS`, and
 * `publishPresence` in `PUBLISH_MEMBERS`.
 *
 * Keys are derived inside the scripts (a dead node's entries span channels); `ns` carries a hash tag
 * so that on a Cluster they all share the slot of KEYS[1] (the `nodes` key, declared for routing).
 * Redis ≥ 5 (scripts replicated by effects).
 */

const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Removes one entry; returns the member JSON when it was that user's last entry, false when the
 * user has entries left, nil when there was no such entry. A user's last entry queues its leave
 * webhook event (see `HOOK_FUNCTIONS`).
 */
const REMOVE_SOCKET = `${HOOK_FUNCTIONS}
local function remove_socket(ns, channel, sid, hooks)
  local base = ns .. 'ch:' .. channel
  local user = redis.call('HGET', base .. ':sockets', sid)
  if not user then return nil end
  redis.call('HDEL', base .. ':sockets', sid)
  if redis.call('HINCRBY', base .. ':counts', user, -1) > 0 then return false end
  redis.call('HDEL', base .. ':counts', user)
  local member = redis.call('HGET', base .. ':users', user)
  redis.call('HDEL', base .. ':users', user)
  hook_left(ns, channel, user, hooks)
  return member
end
`;

/** Whether a store channel is a presence channel whose changes `publishPresence` announces (not a room entry). */
const PUBLISHES = `${PUBLISH_MEMBERS}
local function publishes(channel, publish)
  return publish == '1' and string.sub(channel, 1, ${ROOM_PREFIX.length}) ~= '${ROOM_PREFIX}'
end
`;

/**
 * ARGV: ns, node, channel, entry key, user key, member JSON, hooks (webhook leave delay ms, or ''
 * without webhooks), publish ('1' for publishPresence). Returns {first (0|1), members...}.
 */
export const ADD_SCRIPT = `${REMOVE_SOCKET}${PUBLISHES}
local ns, node, channel, sid, user, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local hooks, publish = ARGV[7] or '', ARGV[8] or ''
local base = ns .. 'ch:' .. channel
local first = 0
local previous = redis.call('HGET', base .. ':sockets', sid)
if previous ~= user then
  if previous then remove_socket(ns, channel, sid, hooks) end
  redis.call('HSET', base .. ':sockets', sid, user)
  if redis.call('HINCRBY', base .. ':counts', user, 1) == 1 then first = 1 end
end
redis.call('HSET', base .. ':users', user, member)
redis.call('SADD', ns .. 'node:' .. node, sid .. ' ' .. channel)
if first == 1 then hook_arrived(ns, channel, user, hooks) end
if previous ~= user and publishes(channel, publish) then publish_members(ns, channel) end
local out = redis.call('HVALS', base .. ':users')
table.insert(out, 1, first)
return out
`;

/**
 * ARGV: ns, node, channel, entry key, hooks, publish (as for ADD). Returns the member JSON when
 * the user left, else nil.
 */
export const REMOVE_SCRIPT = `${REMOVE_SOCKET}${PUBLISHES}
local ns, node, channel, sid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SREM', ns .. 'node:' .. node, sid .. ' ' .. channel)
local left = remove_socket(ns, channel, sid, ARGV[5] or '')
if left ~= nil and publishes(channel, ARGV[6] or '') then publish_members(ns, channel) end
return left
`;

/** The longest pause of every heartbeat that the leases are extended over (ms); see HEARTBEAT_SCRIPT. */
export const FORGIVEN_PAUSE_MS = 60_000;

/**
 * ARGV: ns, node, validity ms, renewal period ms, lease ms. Renews the node's lease. Returns 0
 * while it held; 1 when it had lapsed and another node purged our entries, announcing their
 * departures; 2 when it had lapsed (or never existed) and nobody purged us: an expiry not yet
 * swept, or a Redis that lost its data (restarted empty, failed over without replica), where
 * nobody saw anyone leave.
 *
 * `ns..'pulse'` holds when the last heartbeat of any node ran. Live nodes beat once per renewal
 * period, so a longer silence means no node could reach Redis (a failover, a pause) or none ran:
 * every lease is extended by the silence beyond one period before anything else, so no lease runs
 * out because of it. Nodes find their way back one by one after a failover (a retry pace, a
 * sentinel that still names the old master, a Cluster node that has not yet heard of the
 * promotion), and how far apart is up to their clients, not to the lease: after a silence in which
 * every node missed a renewal (two periods), `ns..'settling'` holds every sweep (PURGE_SCRIPT) for
 * a lease, so each node has a whole lease to come back, not just what is left of its extended one.
 * A single node's timer jitter (a silence of a period and a few ms) holds nothing, so the members
 * of a dead node still go. A silence of more than `FORGIVEN_PAUSE_MS` (the pulse has expired)
 * extends nothing: after every node was gone that long, their entries are written again or purged
 * as after any outage.
 */
export const HEARTBEAT_SCRIPT = `${NOW}
local key, node, t = ARGV[1] .. 'nodes', ARGV[2], now_ms()
local pulse_key, period = ARGV[1] .. 'pulse', tonumber(ARGV[4])
local last = tonumber(redis.call('GET', pulse_key) or '')
if last and t - last > period then
  local leases = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  for i = 1, #leases, 2 do
    redis.call('ZADD', key, tonumber(leases[i + 1]) + t - last - period, leases[i])
  end
  if t - last > 2 * period then redis.call('SET', ARGV[1] .. 'settling', '1', 'PX', ARGV[5]) end
end
redis.call('SET', pulse_key, t, 'PX', ${FORGIVEN_PAUSE_MS})
local expiry = redis.call('ZSCORE', key, node)
redis.call('ZADD', key, t + tonumber(ARGV[3]), node)
local purged = redis.call('DEL', ARGV[1] .. 'purged:' .. node)
if expiry and tonumber(expiry) >= t then return 0 end
if purged == 1 then return 1 end
return 2
`;

/** How long the mark of a purged node waits for it to come back (s). */
const PURGED_MARK_TTL_S = 86_400;

/**
 * ARGV: ns, batch size, node (optional), hooks, publish (as for ADD). Removes up to `batch` entries
 * of the given node, or of one node whose lease expired (none while `settling`, see
 * HEARTBEAT_SCRIPT). SPOP hands each entry to exactly one caller, so concurrent purges on several
 * nodes announce every departure once. Returns {found (0|1), channel, member JSON, ...}
 * where the pairs are users that left; found is 0 when there was nothing to purge.
 */
export const PURGE_SCRIPT = `${NOW}${REMOVE_SOCKET}${PUBLISHES}
local ns, batch, node = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local hooks, publish = ARGV[4] or '', ARGV[5] or ''
local touched = {}
local nodes, t = ns .. 'nodes', now_ms()
if not node or node == '' then
  if redis.call('EXISTS', ns .. 'settling') == 1 then return {0} end
  node = redis.call('ZRANGEBYSCORE', nodes, '-inf', '(' .. t, 'LIMIT', 0, 1)[1]
  if not node then return {0} end
end
local set = ns .. 'node:' .. node
local out = {1}
if ARGV[3] == '' then redis.call('SET', ns .. 'purged:' .. node, '1', 'EX', ${PURGED_MARK_TTL_S}) end
for _, entry in ipairs(redis.call('SPOP', set, batch)) do
  local space = string.find(entry, ' ', 1, true)
  local channel = string.sub(entry, space + 1)
  local member = remove_socket(ns, channel, string.sub(entry, 1, space - 1), hooks)
  if member ~= nil and publishes(channel, publish) then touched[channel] = true end
  if member then
    table.insert(out, channel)
    table.insert(out, member)
  end
end
if redis.call('SCARD', set) == 0 then
  local expiry = redis.call('ZSCORE', nodes, node)
  if ARGV[3] ~= '' or (expiry and tonumber(expiry) < t) then redis.call('ZREM', nodes, node) end
  if #out == 1 and ARGV[3] ~= '' then out[1] = 0 end
end
for channel in pairs(touched) do publish_members(ns, channel) end
return out
`;
