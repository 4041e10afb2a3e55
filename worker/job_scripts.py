"""Lua scripts that change a job record atomically.

Every state change checks the current status inside Redis, so a cancel that
races a finishing chunk, or a chunk redelivered after a worker crash, can
never move a job out of a terminal state or count an item twice.
Each script returns the job's status after it ran ('' if the job is gone).
"""

# KEYS[1] job hash; ARGV: now
START = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[1])
  return 'running'
end
return status
"""

# KEYS[1] job hash, KEYS[2] results hash, KEYS[3] finished-chunks set, KEYS[4] inputs hash
# ARGV: channel, now, chunk id, n items, n failed items, all-failed error JSON,
#       then index/result-JSON pairs
COMPLETE_CHUNK = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status ~= 'queued' and status ~= 'running' then return status end
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
local total = tonumber(redis.call('HGET', KEYS[1], 'total'))
if done < total then
  redis.call('HSET', KEYS[1], 'status', 'running')
  return 'running'
end
status = 'succeeded'
if failed >= total then
  status = 'failed'
  redis.call('HSET', KEYS[1], 'error', ARGV[6])
end
redis.call('HSET', KEYS[1], 'status', status, 'finished_at', ARGV[2])
redis.call('DEL', KEYS[4])
redis.call('PUBLISH', ARGV[1], status)
return status
"""

# KEYS[1] job hash, KEYS[2] inputs hash; ARGV: channel, now, new status, error JSON or ''
# Unlike the others it returns the status *before* it ran, so a caller can tell
# whether it was the one that ended the job.
FINISH = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status ~= 'queued' and status ~= 'running' then return status end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'finished_at', ARGV[2])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[4]) end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[1], ARGV[3])
return status
"""
