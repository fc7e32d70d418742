-- One step of the Redis job store (jobs/redis.rs), run atomically by EVALSHA.
-- `renew`: sets the lease of a running job to its replica for `lease` ms and answers whether a cancel
-- was asked; a job that is gone answers 1, so that its runner stops.
-- KEYS: state, lease, cancel, index. ARGV: id, lease ms.
local record = redis.call('GET', KEYS[1])
if not record then return 1 end
if redis.call('ZSCORE', KEYS[4], ARGV[1]) == 'inf' then
  local replica = cjson.decode(record).replica
  if type(replica) ~= 'string' then replica = '' end
  redis.call('SET', KEYS[2], replica, 'PX', ARGV[2])
end
return redis.call('EXISTS', KEYS[3])
