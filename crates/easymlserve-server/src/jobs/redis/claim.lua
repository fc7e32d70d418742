-- One step of the Redis job store (jobs/redis.rs), run atomically by EVALSHA.
-- `claim`: takes a job another replica handed back, only while it is unfinished, queued, handed back,
-- of run `expected`, and no one holds its lease: writes the claimer's record (with a new run, so a late
-- write of an earlier runner is refused) and takes the lease. Answers 1 when claimed, else 0.
-- KEYS: state, lease, index, bytes, sizes. ARGV: id, record, expected run, replica, lease ms.
if redis.call('ZSCORE', KEYS[3], ARGV[1]) ~= 'inf' then return 0 end
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local stored = cjson.decode(current)
if stored.status ~= 'queued' or stored.handed_back ~= true or (stored.run or '') ~= ARGV[3] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local delta = string.len(ARGV[2]) - string.len(current)
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
redis.call('HINCRBY', KEYS[5], ARGV[1], delta)
redis.call('INCRBY', KEYS[4], delta)
return 1
