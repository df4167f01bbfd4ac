/**
 * `databaseConfig.publishPresence`, as laravel-echo-server 1.6.3 had it: on every change of a
 * presence channel's members, PUBLISH on the Redis channel `PresenceChannelUpdated` (never
 * prefixed: the old server's ioredis `keyPrefix` applies to keys, and PUBLISH has none) the text
 * `JSON.stringify({event: {channel: '<channel>:members', members}})`, where `members` holds one
 * entry per socket, in the order they joined: the member the app returned (`user_id`,
 * `user_info`) followed by that socket's `socketId`.
 *
 * Run inside the presence scripts, so the list is the one the change produced and each change is
 * published once for the whole cluster, in the order Redis applied them.
 */

/**
 * A Lua string as a JSON string, byte for byte as `JSON.stringify` writes it. Channel names and
 * socket ids hold no control characters (they are refused on the way in), so `"` and `\` are the
 * only characters to escape.
 */
const JSON_STRING = `
local function json_string(s)
  return '"' .. (string.gsub(s, '[\\\\"]', '\\\\%0')) .. '"'
end
`;

/**
 * publish_members(ns, channel): the channel's entries, each the user's member JSON with its
 * socket id (the entry key before its dot) appended as the last property.
 */
export const PUBLISH_MEMBERS = `${JSON_STRING}
local function publish_members(ns, channel)
  local base = ns .. 'ch:' .. channel
  local sockets = redis.call('HGETALL', base .. ':sockets')
  local parts = {}
  for i = 1, #sockets, 2 do
    local member = redis.call('HGET', base .. ':users', sockets[i + 1])
    if member and string.sub(member, -1) == '}' and #member > 2 then
      local sid = sockets[i]
      local dot = string.find(sid, '.', 1, true)
      if dot then sid = string.sub(sid, 1, dot - 1) end
      table.insert(parts, string.sub(member, 1, -2) .. ',"socketId":' .. json_string(sid) .. '}')
    end
  end
  redis.call('PUBLISH', 'PresenceChannelUpdated',
    '{"event":{"channel":' .. json_string(channel .. ':members') .. ',"members":[' .. table.concat(parts, ',') .. ']}}')
end
`;
