import { ROOM_PREFIX } from '../channels/room-entry.js';

/**
 * Webhook events decided inside the presence scripts, in the same atomic step as "first socket of
 * the user (or of the channel) anywhere" and "last one anywhere", so that whichever node sees a
 * change, the event is queued once, and never while members remain on another node. Keys, under
 * the presence namespace `ns` (one Cluster slot with the presence keys):
 *
 *   ns..'wh:outbox'  list   event JSON, in the order they were decided; moved to each target's
 *                            queue by the dispatcher
 *   ns..'wh:q:'..id  list   one target's pending events, oldest first
 *   ns..'wh:due'     zset   id → time (ms) a held leave event is due
 *   ns..'wh:events'  hash   id → held event JSON
 *   ns..'wh:fields'  hash   id → its field in wh:held
 *   ns..'wh:held'    hash   'v <channel>' or 'r <channel> <user>' → id of the held leave event
 *   ns..'wh:seq'     string id counter
 *   ns..'wh:lock'    string node id of the dispatcher
 *   ns..'wh:call:'..id string a dispatcher call that ran (see `CALL_MEMORY_MS`), so a call sent again does not
 *                            move or drop a batch twice
 *
 * Leave events (`channel_vacated`, `member_removed`) are held for `webhooks.leaveDelayMs`: an
 * arrival of the same channel (or user in the channel) meanwhile cancels both, so a page reload
 * sends nothing. Each event carries `at`, when it was decided (ms, Redis clock), which the
 * dispatcher strips before sending.
 *
 * `delay` is the script argument: '' when webhooks are off (nothing is written), else the hold in ms.
 */
export const HOOK_FUNCTIONS = `
local function hook_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function hook_subject(channel, user)
  if string.sub(channel, 1, ${ROOM_PREFIX.length}) == '${ROOM_PREFIX}' then
    local name = string.sub(channel, ${ROOM_PREFIX.length + 1})
    return name, nil, 'v ' .. name
  end
  return channel, user, 'r ' .. channel .. ' ' .. user
end

local function hook_event(name, channel, user, at)
  local event = {name = name, channel = channel, at = at}
  if user then event.user_id = user end
  return cjson.encode(event)
end

local function hook_arrived(ns, channel, user, delay)
  if delay == '' then return end
  local name, uid, field = hook_subject(channel, user)
  local held = redis.call('HGET', ns .. 'wh:held', field)
  if held then
    redis.call('HDEL', ns .. 'wh:held', field)
    redis.call('ZREM', ns .. 'wh:due', held)
    redis.call('HDEL', ns .. 'wh:events', held)
    redis.call('HDEL', ns .. 'wh:fields', held)
    return
  end
  local kind = uid and 'member_added' or 'channel_occupied'
  redis.call('RPUSH', ns .. 'wh:outbox', hook_event(kind, name, uid, hook_now()))
end

local function hook_left(ns, channel, user, delay)
  if delay == '' then return end
  local name, uid, field = hook_subject(channel, user)
  local kind = uid and 'member_removed' or 'channel_vacated'
  local now = hook_now()
  local previous = redis.call('HGET', ns .. 'wh:held', field)
  if previous then
    redis.call('ZREM', ns .. 'wh:due', previous)
    redis.call('HDEL', ns .. 'wh:events', previous)
    redis.call('HDEL', ns .. 'wh:fields', previous)
  end
  local id = tostring(redis.call('INCR', ns .. 'wh:seq'))
  redis.call('HSET', ns .. 'wh:events', id, hook_event(kind, name, uid, now))
  redis.call('HSET', ns .. 'wh:fields', id, field)
  redis.call('HSET', ns .. 'wh:held', field, id)
  redis.call('ZADD', ns .. 'wh:due', now + tonumber(delay), id)
end
`;

/**
 * ARGV: ns, batch. Moves up to `batch` held events whose time has come to the outbox, in the
 * order they fell due. Returns how many moved.
 */
export const RELEASE_SCRIPT = `${HOOK_FUNCTIONS}
local ns, batch = ARGV[1], tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', ns .. 'wh:due', '-inf', hook_now(), 'LIMIT', 0, batch)
for _, id in ipairs(due) do
  local event = redis.call('HGET', ns .. 'wh:events', id)
  local field = redis.call('HGET', ns .. 'wh:fields', id)
  if event then redis.call('RPUSH', ns .. 'wh:outbox', event) end
  if field and redis.call('HGET', ns .. 'wh:held', field) == id then redis.call('HDEL', ns .. 'wh:held', field) end
  redis.call('ZREM', ns .. 'wh:due', id)
  redis.call('HDEL', ns .. 'wh:events', id)
  redis.call('HDEL', ns .. 'wh:fields', id)
end
return #due
`;
