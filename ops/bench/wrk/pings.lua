-- ops/bench/heartbeats.sh: GET /ping/<uuid> over every path of $BENCH_PATHS (one per line),
-- each thread starting at its own offset and walking the list in turn, so one monitor gets
-- far fewer than its 5 pings a second. Prints the report.lua line and, after it,
-- "PING_CODES {"200":n,"429":n,...}" counted over every thread.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)")
dofile(here .. "report.lua")
local report_done = done
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
   if #line > 0 then paths[#paths + 1] = line end
end
local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   codes = {}
   i = (id * 7919) % #paths
end

function request()
   i = i % #paths + 1
   return wrk.format("GET", paths[i])
end

function response(status, headers, body)
   codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
   report_done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      for k, v in pairs(t:get("codes")) do total[k] = (total[k] or 0) + v end
   end
   local parts = {}
   for k, v in pairs(total) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
   io.write("PING_CODES {" .. table.concat(parts, ",") .. "}\n")
end
