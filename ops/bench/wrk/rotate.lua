-- wrk: one route of ops/bench/api.sh (BENCH_ROUTE), its requests rotating over the lines of
-- BENCH_PAIRS ("<access token> <endpoint id>", ordered so that consecutive lines belong to
-- different tenants in --tenants mode). Each wrk thread starts at its own offset.
--   list    GET  /api/endpoints/               get     GET  /api/endpoints/{id}/
--   checks  GET  /api/endpoints/{id}/checks/    uptime  GET  /api/endpoints/{id}/uptime/
--   me      GET  /api/auth/me/                 token   POST /api/auth/token/ (BENCH_EMAIL,
--   create  POST /api/endpoints/: a unique public-looking IP-literal URL   BENCH_PASSWORD)
--           each (SW_PROBE_SANDBOX=1 and the scheduler is stopped: never fetched)
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)")
dofile(here .. "report.lua")
local route = os.getenv("BENCH_ROUTE") or "list"
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local list = {}
local pos, counter = 0, 0
local ntid = 0
tid = 0 -- set per thread by setup()

function setup(thread)
   ntid = ntid + 1
   thread:set("tid", ntid)
end

function init(args)
   for line in io.lines(os.getenv("BENCH_PAIRS")) do
      local tok, ep = line:match("^(%S+) (%S+)$")
      if tok then list[#list + 1] = {tok, ep} end
   end
   assert(#list > 0, "no lines in BENCH_PAIRS")
   pos = math.floor((tid - 1) * #list / 8) % #list
end

local paths = {
   list = function(ep) return "/api/endpoints/" end,
   get = function(ep) return "/api/endpoints/" .. ep .. "/" end,
   checks = function(ep) return "/api/endpoints/" .. ep .. "/checks/" end,
   uptime = function(ep) return "/api/endpoints/" .. ep .. "/uptime/" end,
   me = function(ep) return "/api/auth/me/" end,
}

function request()
   pos = pos % #list + 1
   counter = counter + 1
   local tok, ep = list[pos][1], list[pos][2]
   if route == "token" then
      return wrk.format("POST", "/api/auth/token/", {["Content-Type"] = "application/json"},
         string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"),
            os.getenv("BENCH_PASSWORD")))
   end
   local h = {["Authorization"] = "Bearer " .. tok}
   if route == "create" then
      h["Content-Type"] = "application/json"
      local ip = string.format("93.184.%d.%d", math.floor(counter / 250) % 250 + 1, counter % 250 + 1)
      return wrk.format("POST", "/api/endpoints/", h, string.format(
         '{"name":"bench %s-%d-%d","url":"http://%s/b/%s/%d/%d","interval_seconds":300}',
         run, tid, counter, ip, run, tid, counter))
   end
   return wrk.format("GET", paths[route](ep), h)
end
