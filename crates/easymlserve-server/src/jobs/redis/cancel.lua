-- One step of the Redis job store (jobs/redis.rs), run atomically by EVALSHA.
-- `request_cancel`: sets the flag of an existing job, expiring with the job's state.
-- KEYS: state, cancel.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('SET', KEYS[2], '1', 'PX', ttl) else redis.call('SET', KEYS[2], '1') end
return 1
