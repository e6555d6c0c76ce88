#!/usr/bin/env bash
# ops/bench/api.sh — run by `ops/sw bench api` on a fresh instance (var/bench).
# Seeds 3 verified organizations through the REST API (register, the link from the caught
# mail, verify), makes the first one Pro by SQL (`UPDATE public.tenants SET plan = 'pro'`,
# as the tests do: no Stripe round trip) and gives each 50 endpoints through the API. Then
# wrk (BENCH_THREADS 2, BENCH_CONNECTIONS 64, BENCH_SECONDS 20 per route) drives
#   GET  /api/endpoints/   (bearer token; a page of 20 of the tenant's 50)
#   POST /api/endpoints/   (unique public-looking URLs; sandboxed, never fetched)
#   POST /api/auth/token/  (log in; SW_THROTTLE_LOGIN is raised for this instance)
# and prints req/s, p50, p99 and each process's CPU time per route.
# The scheduler, prober and recorder are stopped during the runs: this measures the API.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
SECS=${BENCH_SECONDS:-20}
WRK_DIR=$BENCH_REPO/ops/bench/wrk

bsay "seeding 3 organizations with 50 endpoints each (through the API)"
read -r TENANT EMAIL < <(signup "Bench Org 1")
bsql -c "UPDATE public.tenants SET plan = 'pro' WHERE id = '$TENANT'" >/dev/null
read -r _ EMAIL2 < <(signup "Bench Org 2")
read -r _ EMAIL3 < <(signup "Bench Org 3")
bsql -c "UPDATE public.tenants SET plan = 'pro'" >/dev/null
for em in "$EMAIL" "$EMAIL2" "$EMAIL3"; do
    tok=$(login "$em")
    for ((i = 1; i <= 50; i++)); do
        printf '{"name":"seed %d","url":"http://93.185.%d.%d/seed/%d","interval_seconds":300}' \
            "$i" $((RANDOM % 200 + 1)) $((RANDOM % 200 + 1)) "$i"
        printf '\n'
    done | while IFS= read -r body; do
        curl -fsS --max-time 10 -o /dev/null -X POST "$BASE_URL/api/endpoints/" \
            -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$body" ||
            bdie "seeding an endpoint failed: $body"
    done
done
# The access token lives long enough for the runs (checked: a 401 would show as errors).
BENCH_ACCESS=$(login "$EMAIL")
export BENCH_ACCESS BENCH_EMAIL=$EMAIL BENCH_PASSWORD BENCH_RUN=$(date +%s)
n=$(curl -fsS -H "Authorization: Bearer $BENCH_ACCESS" "$BASE_URL/api/endpoints/" | jq .count)
[ "$n" = 50 ] || bdie "the bench tenant has $n endpoints, not 50"

for a in scheduler prober recorder; do "$SW_OPS" actor stop "$a" >/dev/null 2>&1; done
PGSS=0
if bsql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1; then PGSS=1; fi

routes_json='{}'
printf '\n%-24s %10s %9s %9s %8s   %s\n' ROUTE 'REQ/S' 'P50 ms' 'P99 ms' ERRORS 'CPU s (cores) per process' >&2
for route in get_endpoints post_endpoints token; do
    case $route in
        get_endpoints) label='GET /api/endpoints/' ;;
        post_endpoints) label='POST /api/endpoints/' ;;
        token) label='POST /api/auth/token/' ;;
    esac
    [ "$PGSS" = 1 ] && bsql -c "SELECT pg_stat_statements_reset()" >/dev/null
    la_before=$(loadavg)
    before=$(cpu_snapshot)
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$WRK_DIR/$route.lua" "$BASE_URL" 2>&1) ||
        { printf '%s\n' "$out" >&2; bdie "wrk failed on $label"; }
    after=$(cpu_snapshot)
    la_after=$(loadavg)
    res=$(printf '%s\n' "$out" | sed -n 's/^WRK_JSON //p')
    [ -n "$res" ] || { printf '%s\n' "$out" >&2; bdie "no figures from wrk for $label"; }
    secs=$(jq .duration_s <<<"$res")
    cpu=$(cpu_delta "$before" "$after" "$secs")
    sql_top='[]'
    if [ "$PGSS" = 1 ]; then   # where the database time went: statements per request, µs each
        sql_top=$(bsql -c "SELECT coalesce(json_agg(x), '[]') FROM (SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS query,
            calls, round((total_exec_time * 1000 / greatest(calls, 1))::numeric, 1) AS us_per_call,
            round((total_exec_time / 1000)::numeric, 2) AS total_s
            FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
            ORDER BY total_exec_time DESC LIMIT 8) x")
    fi
    res=$(jq --arg l "$label" --argjson cpu "$cpu" --arg lb "$la_before" --arg la "$la_after" --argjson sql "$sql_top" \
        '. + {route: $l, cpu: $cpu, loadavg_before: $lb, loadavg_after: $la,
              sql_statements_per_request: (([$sql[].calls] | add // 0) / .requests), sql_top: $sql}' <<<"$res")
    routes_json=$(jq --arg k "$route" --argjson v "$res" '. + {($k): $v}' <<<"$routes_json")
    printf '%-24s %10s %9s %9s %8s   %s\n' "$label" "$(jq .req_per_s <<<"$res")" \
        "$(jq .latency_ms.p50 <<<"$res")" "$(jq .latency_ms.p99 <<<"$res")" \
        "$(jq '[.errors[]] | add' <<<"$res")" \
        "$(jq -r '[.cpu | to_entries[] | select(.value.cpu_s > 0.05) | "\(.key) \(.value.cpu_s) (\(.value.cores))"] | join(", ")' <<<"$res")" >&2
done
if [ "$PGSS" = 1 ]; then
    printf '\nSQL per request (pg_stat_statements):\n' >&2
    jq -r 'to_entries[] | "  \(.value.route): \(.value.sql_statements_per_request * 10 | round / 10) statements/request; top: \(.value.sql_top[:3] | map("\(.calls)x \(.us_per_call)us \(.query[:60])") | join(" | "))"' <<<"$routes_json" >&2
fi
printf '\n(load average now: %s; budget for GET: >= 5000 req/s, p99 <= 25 ms at 64 connections)\n' "$(loadavg)" >&2

result=$(jq -n --argjson routes "$routes_json" --argjson machine "$(machine_json)" \
    --arg at "$(date -u +%FT%TZ)" --arg cmd "ops/sw bench api" \
    --arg th "$THREADS" --arg c "$CONNS" --arg s "$SECS" --arg la "$(loadavg)" \
    '{bench: "api", at: $at, command: $cmd, wrk: {threads: ($th|tonumber), connections: ($c|tonumber), seconds: ($s|tonumber)},
      settings: {SW_THROTTLE_LOGIN: env.SW_THROTTLE_LOGIN, SW_HTTP_THREADS: (env.SW_HTTP_THREADS // "256 (default)"), SW_HTTP_MAX_CONN_PER_CLIENT: env.SW_HTTP_MAX_CONN_PER_CLIENT,
                 seeding: "3 tenants via API sign-up + mail verification, plan=pro by SQL, 50 endpoints each via POST",
                 stopped_during_run: ["scheduler", "prober", "recorder"]},
      budget: {get_endpoints: {req_per_s_min: 5000, p99_ms_max: 25}},
      loadavg_end: $la, machine: $machine, routes: $routes}')
f=$(write_result api "$result")
bsay "results: ${f#"$BENCH_REPO"/}"
