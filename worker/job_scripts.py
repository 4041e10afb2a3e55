"""Lua scripts that change a job record atomically.

Every state change checks the current status inside Redis, so a cancel that
races a finishing chunk, or a chunk redelivered after a worker crash, can
never move a job out of a terminal state or count an item twice.

All scripts take the same KEYS: the job hash, its results hash, its set of
finished chunks, its uploaded inputs, its per-chunk attempt counters and the
note of its result-cache key; ARGV[1] is the job's event channel and ARGV[2]
the current time.
"""

# Jobs ended, per "model@version status code" (code: the error's, empty unless
# failed): counted here, where every job ends exactly once, so metrics miss no
# path (cancel, too many attempts, ...).
FINISHED_COUNTS = "predq:stats:finished"

# Ending a job: status, time, error; count it; free the uploads; drop it from
# its owner's outstanding jobs; wake every long-poll waiting on it.
_FINISH_JOB = """
local function finish_job(status, error)
  redis.call('HSET', KEYS[1], 'status', status, 'finished_at', ARGV[2])
  local model = redis.call('HGET', KEYS[1], 'model') or ''
  local code = error ~= '' and cjson.decode(error)['code'] or ''
  redis.call('HINCRBY', '""" + FINISHED_COUNTS + """', model .. ' ' .. status .. ' ' .. code, 1)
  if error ~= '' then redis.call('HSET', KEYS[1], 'error', error) end
  redis.call('DEL', KEYS[4], KEYS[6])
  local owner = redis.call('HGET', KEYS[1], 'owner')
  if owner then
    redis.call('ZREM', 'predq:owner:' .. owner .. ':active', redis.call('HGET', KEYS[1], 'id'))
  end
  redis.call('PUBLISH', ARGV[1], status)
end
local function is_live(status)
  return status == 'queued' or status == 'running'
end
"""

# ARGV[3] chunk id, ARGV[4] worker name, ARGV[5] max attempts, ARGV[6] error
# JSON for too many attempts. Returns 1 when the chunk should run, 2 when this
# call failed the job (too many attempts), else 0.
START = _FINISH_JOB + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status or not is_live(status) then return 0 end
if redis.call('SISMEMBER', KEYS[3], ARGV[3]) == 1 then return 0 end
local attempts = redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
redis.call('EXPIRE', KEYS[5], redis.call('TTL', KEYS[1]))
if attempts > tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') then
  redis.call('HSET', KEYS[1], 'attempts', attempts)
end
redis.call('HSET', KEYS[1], 'worker', ARGV[4])
if attempts > tonumber(ARGV[5]) then
  finish_job('failed', ARGV[6])
  return 2
end
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[2])
end
return 1
"""

# Storing a succeeding job's results under the cache key noted for it, if
# any, for what is left of the note's TTL (the cache TTL from submission).
# Done here, before the job is seen to succeed, so a client that saw it
# succeed and asks again gets a hit; and without reading the results back.
_FILL_CACHE = """
local function fill_cache()
  local key = redis.call('GET', KEYS[6])
  local ttl = redis.call('PTTL', KEYS[6])
  if not key or ttl <= 0 then return end
  local parts = {}
  for i = 0, tonumber(redis.call('HGET', KEYS[1], 'total')) - 1 do
    parts[#parts + 1] = redis.call('HGET', KEYS[2], i)
  end
  redis.call('SET', key, '[' .. table.concat(parts, ',') .. ']', 'PX', ttl)
end
"""

# ARGV[3] chunk id, ARGV[4] n items, ARGV[5] n failed items, ARGV[6] error JSON
# if every item failed, then index/result-JSON pairs. Returns the status after.
COMPLETE_CHUNK = _FINISH_JOB + _FILL_CACHE + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if not is_live(status) then return status end
if redis.call('SADD', KEYS[3], ARGV[3]) == 0 then return status end
local ttl = redis.call('TTL', KEYS[1])
redis.call('EXPIRE', KEYS[3], ttl)
for i = 7, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[2], ttl)
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[2])
end
local done = redis.call('HINCRBY', KEYS[1], 'done', ARGV[4])
local failed = redis.call('HINCRBY', KEYS[1], 'failed_items', ARGV[5])
if done < tonumber(redis.call('HGET', KEYS[1], 'total')) then
  redis.call('HSET', KEYS[1], 'status', 'running')
  return 'running'
end
if failed >= done then
  finish_job('failed', ARGV[6])
  return 'failed'
end
fill_cache()
finish_job('succeeded', '')
return 'succeeded'
"""

# ARGV[3] new terminal status, ARGV[4] error JSON or ''. Unlike the others it
# returns the status *before* it ran, so a caller can tell whether it was the
# one that ended the job.
FINISH = _FINISH_JOB + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if is_live(status) then finish_job(ARGV[3], ARGV[4]) end
return status
"""

# KEYS[1] an owner's outstanding jobs (sorted by expiry); ARGV: job id, now ms,
# expiry ms, limit. Returns 1 if the job is admitted, 0 if the owner is at the limit.
ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
"""

# Webhook scripts take KEYS[1] the job hash and KEYS[2] its delivery log (a list).

# Claims a terminal job's webhook, once: returns 1 to exactly one caller when
# the job has a webhook whose events include how it ended, else 0.
CLAIM_WEBHOOK = """
local status = redis.call('HGET', KEYS[1], 'status')
local events = redis.call('HGET', KEYS[1], 'webhook_events')
if not status or not events then return 0 end
local event = ({succeeded = 'completed', failed = 'failed', cancelled = 'cancelled'})[status]
if not event or not string.find(',' .. events .. ',', ',' .. event .. ',', 1, true) then return 0 end
return redis.call('HSETNX', KEYS[1], 'webhook_state', 'scheduled')
"""

# ARGV[1] the attempt's log entry (JSON), ARGV[2] the webhook's state after it.
# The log lives as long as its job; returns the number of attempts logged, or
# 0 for a job that is gone.
LOG_DELIVERY = """
local ttl = redis.call('TTL', KEYS[1])
if ttl == -2 then return 0 end
redis.call('HSET', KEYS[1], 'webhook_state', ARGV[2])
local n = redis.call('RPUSH', KEYS[2], ARGV[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
return n
"""
