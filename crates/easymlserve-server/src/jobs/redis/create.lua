-- One step of the Redis job store (jobs/redis.rs), run atomically by EVALSHA.
-- `create`: drops jobs past their expiry, then answers `exists` + record, `full_jobs` + count,
-- `full_bytes` + bytes, or stores the job and answers `new`.
-- KEYS: state, index, bytes, sizes, request. ARGV: id, record, max_jobs, max_bytes, job key prefix, terminal,
-- ttl ms, request body. The job's size counts its record and its request body.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  local base = ARGV[5] .. old
  redis.call('DEL', base, base .. ':events', base .. ':lease', base .. ':cancel', base .. ':request')
  redis.call('DECRBY', KEYS[3], tonumber(redis.call('HGET', KEYS[4], old) or '0'))
  redis.call('HDEL', KEYS[4], old)
  redis.call('ZREM', KEYS[2], old)
end
local existing = redis.call('GET', KEYS[1])
if existing then return {'exists', existing} end
-- What an earlier job of this id left (its keys expired a moment before its index entry).
local stale = redis.call('HGET', KEYS[4], ARGV[1])
if stale then
  redis.call('DECRBY', KEYS[3], tonumber(stale))
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[1] .. ':events', KEYS[1] .. ':lease', KEYS[1] .. ':cancel', KEYS[5])
end
local count = redis.call('ZCARD', KEYS[2])
if count >= tonumber(ARGV[3]) then return {'full_jobs', tostring(count)} end
local bytes = tonumber(redis.call('GET', KEYS[3]) or '0')
local size = string.len(ARGV[2]) + string.len(ARGV[8])
if bytes + size > tonumber(ARGV[4]) then return {'full_bytes', tostring(bytes)} end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[5], ARGV[8])
if ARGV[6] == '1' then
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
  redis.call('PEXPIRE', KEYS[5], ARGV[7])
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[7]), ARGV[1])
else
  redis.call('ZADD', KEYS[2], '+inf', ARGV[1])
end
redis.call('HSET', KEYS[4], ARGV[1], size)
redis.call('INCRBY', KEYS[3], size)
return {'new'}
