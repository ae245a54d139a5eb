-- wrk script for bench/fleet_heartbeats.py: replays a pool of pre-signed POSTs, each once.
-- args: <pool file> <threads> <path>. Pool lines: content-digest \t signature-input \t signature \t body
-- (the three headers empty for the unsigned endpoint). Each thread takes every n-th line.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads, target = args[1], tonumber(args[2]), args[3]
  pool, idx, ok, bad, wrapped = {}, 0, 0, 0, 0
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == tid then
      local digest, input, signature, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json" }
      if digest ~= "" then
        headers["Content-Digest"] = digest
        headers["Signature-Input"] = input
        headers["Signature"] = signature
      end
      table.insert(pool, wrk.format("POST", target, headers, body))
    end
    i = i + 1
  end
end

function request()
  idx = idx + 1
  if idx > #pool then
    idx, wrapped = 1, wrapped + 1 -- a signed request sent twice is a replay: counted as bad
  end
  return pool[idx]
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local tok, tbad, twrapped = 0, 0, 0
  for _, t in ipairs(threads) do
    tok = tok + t:get("ok")
    tbad = tbad + t:get("bad")
    twrapped = twrapped + t:get("wrapped")
  end
  io.write(string.format("RESULT ok=%d bad=%d wrapped=%d duration_us=%d p50_us=%d p99_us=%d\n",
    tok, tbad, twrapped, summary.duration, latency:percentile(50), latency:percentile(99)))
end
