-- wrk: authenticated GET /api/endpoints/ (the bearer token comes from BENCH_ACCESS).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)")
dofile(here .. "report.lua")
wrk.method = "GET"
wrk.path = "/api/endpoints/"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_ACCESS")
