-- wrk: authenticated POST /api/endpoints/ with a URL no other request used: a public-looking
-- IPv4 literal and a path unique per wrk thread and request. The instance runs with
-- SW_PROBE_SANDBOX=1, so nothing is ever fetched from those addresses (and ops/bench/api.sh
-- stops the scheduler while it runs: this measures the API, not probing).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)")
dofile(here .. "report.lua")
local token = os.getenv("BENCH_ACCESS")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local counter = 0
local ntid = 0
tid = 0 -- set per thread by setup()

function setup(thread)
   ntid = ntid + 1
   thread:set("tid", ntid)
end

function init(args)
   wrk.method = "POST"
   wrk.path = "/api/endpoints/"
   wrk.headers["Authorization"] = "Bearer " .. token
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   counter = counter + 1
   local ip = string.format("93.184.%d.%d", math.floor(counter / 250) % 250 + 1, counter % 250 + 1)
   local body = string.format(
      '{"name":"bench %s-%d-%d","url":"http://%s/b/%s/%d/%d","interval_seconds":300}',
      run, tid, counter, ip, run, tid, counter)
   return wrk.format(nil, nil, nil, body)
end
