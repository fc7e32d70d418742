-- One step of the Redis job store (jobs/redis.rs), run atomically by EVALSHA.
-- `delete`: forgets every key and count of the job; answers whether its state existed.
-- KEYS: state, events, lease, cancel, index, bytes, sizes, request. ARGV: id.
local existed = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[8])
redis.call('DECRBY', KEYS[6], tonumber(redis.call('HGET', KEYS[7], ARGV[1]) or '0'))
redis.call('HDEL', KEYS[7], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return existed
