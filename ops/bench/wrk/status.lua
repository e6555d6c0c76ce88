-- wrk: one document of a public status page (ops/bench/status.sh): GET BENCH_PATH, with
-- If-None-Match: BENCH_ETAG when that is set (the 304 route).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)")
dofile(here .. "report.lua")
local path = os.getenv("BENCH_PATH") or "/"
local etag = os.getenv("BENCH_ETAG")

function request()
   if etag and etag ~= "" then
      return wrk.format("GET", path, {["If-None-Match"] = etag})
   end
   return wrk.format("GET", path)
end
