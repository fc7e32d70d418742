-- One step of the Redis job store (jobs/redis.rs), run atomically by EVALSHA.
-- `hand_back`: a stopping replica gives a job back. Unless the job is gone, over, or of another run
-- than `expected`, writes its queued record (with a new run), appends the event, trims the events to
-- the newest `max_events`, and drops the lease so that another replica may claim it. Answers 1 when
-- written, else 0.
-- KEYS: state, events, lease, index, bytes, sizes. ARGV: id, record, event, max_events, expected run.
if redis.call('ZSCORE', KEYS[4], ARGV[1]) ~= 'inf' then return 0 end
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if (cjson.decode(current).run or '') ~= ARGV[5] then return 0 end
local delta = string.len(ARGV[2]) - string.len(current)
redis.call('SET', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[3])
delta = delta + string.len(ARGV[3])
local keep = tonumber(ARGV[4])
while redis.call('LLEN', KEYS[2]) > keep do
  delta = delta - string.len(redis.call('LPOP', KEYS[2]))
end
redis.call('DEL', KEYS[3])
redis.call('HINCRBY', KEYS[6], ARGV[1], delta)
redis.call('INCRBY', KEYS[5], delta)
return 1
