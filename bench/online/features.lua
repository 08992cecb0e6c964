-- wrk script: GET /v1/features/<VIEW>?key=<random key in [0, KEYS)> (bench/online/run.sh).
-- Each wrk thread has its own Lua state; `id` (set in setup) gives each its own random sequence.
local view = os.getenv("VIEW") or "user_features"
local keys = tonumber(os.getenv("KEYS") or "1000000")
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
  return wrk.format("GET", "/v1/features/" .. view .. "?key=" .. math.random(0, keys - 1))
end
