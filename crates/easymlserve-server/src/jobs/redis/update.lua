-- One step of the Redis job store (jobs/redis.rs), run atomically by EVALSHA.
-- `update`: 0 when the job is gone or over; else writes the state, appends the event, trims the events
-- to the newest `max_events`, starts the time-to-live of a terminal state, and answers 1.
-- A write of another run of the job (an earlier job with the same id, deleted and submitted again) is refused.
-- KEYS: state, events, cancel, index, bytes, sizes, request. ARGV: id, record, terminal, event or '', max_events, ttl ms, run.
local score = redis.call('ZSCORE', KEYS[4], ARGV[1])
if score ~= 'inf' or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local stored = cjson.decode(redis.call('GET', KEYS[1]))
if (stored.run or '') ~= ARGV[7] then return 0 end
local delta = string.len(ARGV[2]) - redis.call('STRLEN', KEYS[1])
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[4] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[4])
  delta = delta + string.len(ARGV[4])
  local keep = tonumber(ARGV[5])
  while redis.call('LLEN', KEYS[2]) > keep do
    delta = delta - string.len(redis.call('LPOP', KEYS[2]))
  end
end
redis.call('HINCRBY', KEYS[6], ARGV[1], delta)
redis.call('INCRBY', KEYS[5], delta)
if ARGV[3] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
  redis.call('PEXPIRE', KEYS[7], ARGV[6])
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[6]), ARGV[1])
end
return 1
