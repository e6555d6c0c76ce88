#!/usr/bin/env bash
# ops/bench/status.sh — run by `ops/sw bench status` on a fresh instance (var/bench).
#
# The public status page under a crowd (issue 20, DESIGN §10: >= 10,000 req/s, aim 20,000 req/s
# with p99 <= 10 ms at 256 connections). One organization signed up through the API, 10
# endpoints through POST (public-looking IP literals; sandboxed, never fetched), and a page
# listing them in two groups through POST /api/status-pages/. The scheduler, prober and
# recorder are stopped; what the page shows is written BY SQL as the recorder would: each
# endpoint's public.endpoint_state row and 90 days of hourly roll-ups (21,600 rows), so every
# render reads what a real page reads.
#
# wrk (BENCH_THREADS 2, BENCH_CONNECTIONS 256, BENCH_SECONDS 20 per route) then drives:
#   summary   GET /status/<slug>/api/v2/summary.json
#   page      GET /status/<slug>/                  (the HTML page, 90-day bars)
#   etag      GET summary.json with If-None-Match: its current ETag (304s)
# and prints req/s, p50/p99 and the CPU µs per request of the edge, sw-endpoints, nats-server
# and PostgreSQL. During the summary run it also changes the page twice and measures how long
# until a client sees it: an endpoint marked down BY SQL (no event: the edge's TTL,
# SW_STATUS_CACHE_TTL_MS, bounds it) and a page renamed through PATCH (its status_page.changed
# event drops the edge's entries at once). Both must stay under 5 s.
set -euo pipefail
BENCH_PROG="ops/sw bench status"
. "$(dirname "${BASH_SOURCE[0]}")/args.sh"

ALL_ROUTES=summary,page,etag
usage() {
    cat <<USAGE
Usage: ops/sw bench status [--routes LIST]

A fresh instance in var/bench (ports SW_BENCH_PORT_BASE+1.., default 31101-31109), one public
status page of 10 components with 90 days of roll-ups, then wrk on its public documents;
figures printed and written to bench/results/.

  --routes LIST    comma-separated, default $ALL_ROUTES
                   (summary: api/v2/summary.json; page: the HTML page; etag: summary.json
                   with If-None-Match, answered 304)
  -h, --help       this text (nothing is installed, built or started)

Settings (environment): BENCH_SECONDS 20 (1..600) per route, BENCH_CONNECTIONS 256 (1..1000),
BENCH_THREADS 2 (1..64, at most the connections).
USAGE
}

if wants_help "$@"; then usage; exit 0; fi
ROUTES=$ALL_ROUTES
while (($#)); do
    case $1 in
        --routes) need_value "$@"; ROUTES=$2; shift 2 ;;
        *) usage_die "unknown argument '$1'" ;;
    esac
done
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-256}
SECS=${BENCH_SECONDS:-20}
check_int BENCH_SECONDS "$SECS" 1 600
check_int BENCH_CONNECTIONS "$CONNS" 1 1000
check_int BENCH_THREADS "$THREADS" 1 64
((10#$THREADS <= 10#$CONNS)) || usage_die "BENCH_THREADS ($THREADS) must not exceed BENCH_CONNECTIONS ($CONNS)"
[[ $ROUTES =~ ^[a-z]+(,[a-z]+)*$ ]] || usage_die "--routes must be a comma-separated list, not '$ROUTES'"
IFS=, read -r -a ROUTE_LIST <<<"$ROUTES"
for r in "${ROUTE_LIST[@]}"; do
    [[ ,$ALL_ROUTES, == *",$r,"* ]] || usage_die "unknown route '$r' (one of $ALL_ROUTES)"
done
[ "${BENCH_ARGS_ONLY:-0}" = 1 ] && exit 0
THREADS=$((10#$THREADS)) CONNS=$((10#$CONNS)) SECS=$((10#$SECS))

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WRK_DIR=$BENCH_REPO/ops/bench/wrk

for a in scheduler prober recorder; do "$SW_OPS" actor stop "$a" >/dev/null 2>&1; done
bsay "seeding one organization, 10 endpoints, a status page and 90 days of roll-ups"
read -r TENANT EMAIL < <(signup "Bench Status Org")
bsql -c "INSERT INTO public.subscriptions (tenant_id, plan) VALUES ('$TENANT', 'pro') ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan" >/dev/null
TOKEN=$(login "$EMAIL")
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || bdie "login of the bench owner failed"
comps='[]'
for ((i = 1; i <= 10; i++)); do
    id=$(curl -fsS --max-time 10 -X POST "$BASE_URL/api/endpoints/" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' \
        -d "{\"name\":\"service $i\",\"url\":\"http://93.184.$i.1/health\",\"interval_seconds\":60}" | jq -r .id)
    [ -n "$id" ] && [ "$id" != null ] || bdie "creating endpoint $i failed"
    comps=$(jq --arg id "$id" --arg n "Service $i" --arg g "$([ "$i" -le 5 ] && echo Frontend || echo Backend)" \
        '. + [{endpoint_id: $id, name: $n, group: $g}]' <<<"$comps")
done
SLUG="bench-$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
PAGE=$(curl -fsS --max-time 10 -X POST "$BASE_URL/api/status-pages/" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "$(jq -n --arg s "$SLUG" --argjson c "$comps" '{name: "Bench Status", slug: $s, description: "A page under a crowd.", components: $c}')")
PAGE_ID=$(jq -r .id <<<"$PAGE")
[ -n "$PAGE_ID" ] && [ "$PAGE_ID" != null ] || bdie "creating the status page failed: $PAGE"
# As the recorder writes them: state rows and hourly roll-ups (0.2 % failures, 14 buckets).
bsql >/dev/null <<SQL
INSERT INTO public.endpoint_state (endpoint_id, tenant_id, status, changed_at, last_checked_at, last_latency_ms)
    SELECT id, '$TENANT', 'up', now() - interval '3 days', now(), 42 FROM "$TENANT".endpoints
    ON CONFLICT (endpoint_id) DO UPDATE SET status = 'up';
INSERT INTO public.check_rollups_hourly (tenant_id, endpoint_id, hour, checks, failures, latency_sum, buckets)
    SELECT '$TENANT', e.id, date_trunc('hour', now()) - make_interval(hours => h), 60,
           CASE WHEN h % 500 = 7 THEN 6 ELSE 0 END, 60 * 42.0, '{0,0,0,0,0,10,40,10,0,0,0,0,0,0}'
    FROM "$TENANT".endpoints e, generate_series(0, 90 * 24 - 1) h;
SQL
BASE_STATUS="/status/$SLUG"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL$BASE_STATUS/api/v2/summary.json")
[ "$code" = 200 ] || bdie "summary.json answers $code"
ETAG=$(curl -sS -D - -o /dev/null "$BASE_URL$BASE_STATUS/api/v2/summary.json" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" {print $2}')
PAGE_BYTES=$(curl -sS "$BASE_URL$BASE_STATUS/" | wc -c)
SUMMARY_BYTES=$(curl -sS "$BASE_URL$BASE_STATUS/api/v2/summary.json" | wc -c)

# freshness "jq filter" → seconds (3 decimals) until summary.json satisfies it, at most 15 s.
freshness() {
    local t0 now
    t0=$(date +%s.%N)
    while :; do
        if curl -fsS --max-time 2 "$BASE_URL$BASE_STATUS/api/v2/summary.json" | jq -e "$1" >/dev/null 2>&1; then
            now=$(date +%s.%N); awk -v a="$t0" -v b="$now" 'BEGIN {printf "%.3f", b - a}'; return
        fi
        now=$(date +%s.%N)
        if awk -v a="$t0" -v b="$now" 'BEGIN {exit !(b - a > 15)}'; then echo null; return; fi
        sleep 0.05
    done
}

routes_json='{}' fresh_json='null'
mkdir -p "$SW_VAR/bench"
printf '\n%-42s %9s %8s %8s %7s   %s\n' ROUTE 'REQ/S' 'P50 ms' 'P99 ms' ERRORS \
    'CPU µs/request: edge, endpoints, nats-server, postgres' >&2
for route in "${ROUTE_LIST[@]}"; do
    etag=
    case $route in
        summary) path=$BASE_STATUS/api/v2/summary.json label="GET $path" ;;
        page) path=$BASE_STATUS/ label="GET $path" ;;
        etag) path=$BASE_STATUS/api/v2/summary.json label="GET summary.json If-None-Match (304)"
              etag=$(curl -sS -D - -o /dev/null "$BASE_URL$path" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" {print $2}') ;;
    esac
    la_before=$(loadavg)
    before=$(cpu_snapshot)
    if [ "$route" = summary ]; then
        # Two changes while the crowd reads: one seen only through the TTL, one through the event.
        (
            sleep $((SECS / 3 > 0 ? SECS / 3 : 1))
            bsql -c "UPDATE public.endpoint_state SET status = 'down', changed_at = now() WHERE tenant_id = '$TENANT' AND endpoint_id = (SELECT endpoint_id FROM \"$TENANT\".status_page_components ORDER BY position LIMIT 1)" >/dev/null
            # (a group component shows its worst member: only the endpoints themselves count)
            ttl_s=$(freshness '[.components[] | select(.group != true and .status == "major_outage")] | length == 1')
            curl -fsS --max-time 10 -o /dev/null -X PATCH "$BASE_URL/api/status-pages/$PAGE_ID/" \
                -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"Bench Status (renamed)"}'
            event_s=$(freshness '.page.name == "Bench Status (renamed)"')
            printf '{"state_change_by_sql_s": %s, "page_patch_s": %s}\n' "$ttl_s" "$event_s" >"$SW_VAR/bench/fresh.json"
        ) &
        fresh_pid=$!
    fi
    out=$(BENCH_PATH=$path BENCH_ETAG=$etag wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$WRK_DIR/status.lua" "$BASE_URL" 2>&1) ||
        { printf '%s\n' "$out" >&2; bdie "wrk failed on $label"; }
    after=$(cpu_snapshot)
    la_after=$(loadavg)
    if [ "$route" = summary ]; then
        wait "$fresh_pid" || true
        fresh_json=$(cat "$SW_VAR/bench/fresh.json" 2>/dev/null || echo null)
    fi
    res=$(printf '%s\n' "$out" | sed -n 's/^WRK_JSON //p')
    [ -n "$res" ] || { printf '%s\n' "$out" >&2; bdie "no figures from wrk for $label"; }
    non2xx=$(printf '%s\n' "$out" | sed -n 's/^ *Non-2xx or 3xx responses: *//p')
    cpu=$(cpu_delta "$before" "$after" "$(jq .duration_s <<<"$res")" "$(jq .requests <<<"$res")")
    res=$(jq --arg l "$label" --argjson cpu "$cpu" --arg lb "$la_before" --arg la "$la_after" \
        --arg n "${non2xx:-0}" \
        '. + {route: $l, cpu: $cpu, loadavg_before: $lb, loadavg_after: $la, non_2xx_3xx: ($n|tonumber)}' <<<"$res")
    routes_json=$(jq --arg k "$route" --argjson v "$res" '. + {($k): $v}' <<<"$routes_json")
    printf '%-42s %9s %8s %8s %7s   %s\n' "$label" "$(jq .req_per_s <<<"$res")" \
        "$(jq .latency_ms.p50 <<<"$res")" "$(jq .latency_ms.p99 <<<"$res")" \
        "$(jq '([.errors[]] | add) + .non_2xx_3xx' <<<"$res")" \
        "$(jq -r '[["edge", "endpoints", "nats", "postgres"][] as $p | "\($p) \(.cpu[$p].us_per_request // "?")"] | join(", ")' <<<"$res")" >&2
done
if [ "$fresh_json" != null ]; then
    printf '\nfresh after a change, under the summary load: state change by SQL (TTL only) %s s, page PATCH (event) %s s (must be < 5 s)\n' \
        "$(jq .state_change_by_sql_s <<<"$fresh_json")" "$(jq .page_patch_s <<<"$fresh_json")" >&2
fi
printf '(documents: page %s bytes, summary.json %s bytes; load average now: %s; budget: >= 10,000 req/s, aim 20,000 req/s with p99 <= 10 ms at 256 connections)\n' \
    "$PAGE_BYTES" "$SUMMARY_BYTES" "$(loadavg)" >&2

result=$(jq -n --argjson routes "$routes_json" --argjson machine "$(machine_json)" --argjson fresh "$fresh_json" \
    --arg at "$(date -u +%FT%TZ)" --arg cmd "ops/sw bench status --routes $ROUTES" \
    --arg th "$THREADS" --arg c "$CONNS" --arg s "$SECS" --arg la "$(loadavg)" \
    --arg pb "$PAGE_BYTES" --arg sb "$SUMMARY_BYTES" \
    '{bench: "status", at: $at, command: $cmd,
      wrk: {threads: ($th|tonumber), connections: ($c|tonumber), seconds: ($s|tonumber), script: "ops/bench/wrk/status.lua"},
      settings: {SW_STATUS_CACHE_TTL_MS: (env.SW_STATUS_CACHE_TTL_MS // "2000 (default)"), SW_HTTP_THREADS: env.SW_HTTP_THREADS,
                 SW_HTTP_MAX_CONN_PER_CLIENT: env.SW_HTTP_MAX_CONN_PER_CLIENT,
                 seeding: "1 tenant via API sign-up, 10 endpoints and the page via the API, endpoint_state and 90 days of hourly roll-ups by SQL",
                 stopped_during_run: ["scheduler", "prober", "recorder"]},
      documents_bytes: {page: ($pb|tonumber), summary: ($sb|tonumber)},
      freshness_s: $fresh,
      budget: {req_per_s_min: 10000, req_per_s_aim: 20000, p99_ms_aim: 10, fresh_s_max: 5},
      loadavg_end: $la, machine: $machine, routes: $routes}')
f=$(write_result status "$result")
bsay "results: ${f#"$BENCH_REPO"/}"
