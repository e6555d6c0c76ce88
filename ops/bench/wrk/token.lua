-- wrk: POST /api/auth/token/ (log in) as the bench owner; BENCH_EMAIL / BENCH_PASSWORD.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)")
dofile(here .. "report.lua")
wrk.method = "POST"
wrk.path = "/api/auth/token/"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"),
                         os.getenv("BENCH_PASSWORD"))
