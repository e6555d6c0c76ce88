#!/usr/bin/env bash
# ops/bench/heartbeats.sh — run by `ops/sw bench heartbeats` on a fresh instance (var/bench).
#
# Heartbeat monitors (issue 18, DESIGN §10: >= 5,000 pings/s through the edge; 10,000 lapsed
# deadlines marked down within 2 s). One organization signed up through the API (made Pro by
# SQL), --monitors heartbeats (default 10,000) created through POST /api/endpoints/ (period 1 h,
# grace 0). The scheduler and prober are stopped (heartbeats are never probed).
#
#  1. pings: wrk (BENCH_THREADS 2, BENCH_CONNECTIONS 64, BENCH_SECONDS 20) sends
#     GET /ping/<uuid> over every monitor's ping URL in turn (ops/bench/wrk/pings.lua), so no
#     monitor passes 5 pings/s; pings/s counts the 200s only (each one stored in JetStream
#     before its answer). Then it waits until the recorder has stored every accepted ping
#     (public.heartbeat_pings) and reports that drain time too.
#  2. lapse: every monitor has had a success, so each is up with a deadline an hour away. The
#     deadlines are moved BY SQL to one instant 3 s ahead (the recorder's own rows: waiting an
#     hour is not a benchmark), then the bench waits until all are down and reports, from
#     endpoint_state.changed_at, how long after that instant the first, the median, the 99th
#     percentile and the last one were marked down (budget: all within 2 s), and when the
#     last endpoint.down event left (incidents and mails follow as for any outage).
set -euo pipefail
BENCH_PROG="ops/sw bench heartbeats"
. "$(dirname "${BASH_SOURCE[0]}")/args.sh"

usage() {
    cat <<USAGE
Usage: ops/sw bench heartbeats [--monitors N]

A fresh instance in var/bench (ports SW_BENCH_PORT_BASE+1.., default 31101-31109), one Pro
organization with N heartbeat monitors, then pings through the edge with wrk and N deadlines
passing at once; figures printed and written to bench/results/.

  --monitors N     heartbeat monitors, default 10000 (100..50000)
  -h, --help       this text (nothing is installed, built or started)

Settings (environment): BENCH_SECONDS 20 (1..600) of pings, BENCH_CONNECTIONS 64 (1..1000),
BENCH_THREADS 2 (1..64, at most the connections).
USAGE
}

if wants_help "$@"; then usage; exit 0; fi
MONITORS=10000
while (($#)); do
    case $1 in
        --monitors) need_value "$@"; MONITORS=$2; shift 2 ;;
        *) usage_die "unknown argument '$1'" ;;
    esac
done
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
SECS=${BENCH_SECONDS:-20}
check_int --monitors "$MONITORS" 100 50000
check_int BENCH_SECONDS "$SECS" 1 600
check_int BENCH_CONNECTIONS "$CONNS" 1 1000
check_int BENCH_THREADS "$THREADS" 1 64
((10#$THREADS <= 10#$CONNS)) || usage_die "BENCH_THREADS ($THREADS) must not exceed BENCH_CONNECTIONS ($CONNS)"
[ "${BENCH_ARGS_ONLY:-0}" = 1 ] && exit 0
THREADS=$((10#$THREADS)) CONNS=$((10#$CONNS)) SECS=$((10#$SECS)) MONITORS=$((10#$MONITORS))

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WRK_DIR=$BENCH_REPO/ops/bench/wrk
mkdir -p "$SW_VAR/bench"

for a in scheduler prober; do "$SW_OPS" actor stop "$a" >/dev/null 2>&1; done
bsay "seeding one organization and $MONITORS heartbeat monitors through the API"
read -r TENANT EMAIL < <(signup "Bench Heartbeat Org")
bsql -c "INSERT INTO public.subscriptions (tenant_id, plan) VALUES ('$TENANT', 'pro')
         ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan" >/dev/null
TOKEN=$(login "$EMAIL")
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || bdie "login of the bench owner failed"
t0=$(date +%s.%N)
seq 1 "$MONITORS" | xargs -P 16 -I{} curl -fsS --max-time 30 -o /dev/null -X POST \
    "$BASE_URL/api/endpoints/" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"kind":"heartbeat","name":"job {}","period_seconds":3600,"grace_seconds":0}' ||
    bdie "creating the heartbeats failed"
create_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
PATHS=$SW_VAR/bench/ping-paths.txt
bsql -c "SELECT '/ping/' || ping_key FROM \"$TENANT\".endpoints WHERE ping_key IS NOT NULL ORDER BY random()" >"$PATHS"
n=$(wc -l <"$PATHS")
[ "$n" -eq "$MONITORS" ] || bdie "expected $MONITORS heartbeats, found $n"
# The edge learns the keys from SW_PING_KEYS: wait until the last one created answers.
last=$(tail -n1 "$PATHS")
for ((i = 0; i < 100; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X HEAD "$BASE_URL$last")" = 200 ] && break
    sleep 0.1
done
bsql -c "DELETE FROM public.heartbeat_pings" >/dev/null

# ---- 1. pings through the edge
la_before=$(loadavg)
before=$(cpu_snapshot)
out=$(BENCH_PATHS=$PATHS wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$WRK_DIR/pings.lua" "$BASE_URL" 2>&1) ||
    { printf '%s\n' "$out" >&2; bdie "wrk failed"; }
after=$(cpu_snapshot)
la_after=$(loadavg)
res=$(printf '%s\n' "$out" | sed -n 's/^WRK_JSON //p')
codes=$(printf '%s\n' "$out" | sed -n 's/^PING_CODES //p')
[ -n "$res" ] && [ -n "$codes" ] || { printf '%s\n' "$out" >&2; bdie "no figures from wrk"; }
ok=$(jq '."200" // 0' <<<"$codes")
secs=$(jq .duration_s <<<"$res")
pings_per_s=$(awk -v n="$ok" -v s="$secs" 'BEGIN {printf "%.1f", n / s}')
cpu=$(cpu_delta "$before" "$after" "$secs" "$ok")
# Every accepted ping reaches the database (the recorder drains SW_PINGS).
t0=$(date +%s.%N)
stored=0
for ((i = 0; i < 1200; i++)); do
    stored=$(bsql -c "SELECT count(*) FROM public.heartbeat_pings")
    [ "$stored" -ge "$ok" ] && break
    sleep 0.25
done
drain_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
printf '\npings: %s accepted in %s s = %s pings/s (budget >= 5,000); statuses %s; p50 %s ms, p99 %s ms\n' \
    "$ok" "$secs" "$pings_per_s" "$(jq -c . <<<"$codes")" "$(jq .latency_ms.p50 <<<"$res")" "$(jq .latency_ms.p99 <<<"$res")" >&2
printf '       CPU µs per ping: %s\n' \
    "$(jq -r '[["edge", "recorder", "nats", "postgres"][] as $p | "\($p) \(.[$p].us_per_request // "?")"] | join(", ")' <<<"$cpu")" >&2
printf '       stored %s of them; the recorder had the rest within %s s after the run\n' "$stored" "$drain_s" >&2

# ---- 2. every monitor's deadline passes at one instant
up=$(bsql -c "SELECT count(*) FROM public.endpoint_state WHERE tenant_id = '$TENANT' AND status = 'up'")
if [ "$up" -lt "$MONITORS" ]; then
    # Monitors wrk did not reach (a short run): one ping each, 64 at a time.
    bsql -c "SELECT '/ping/' || e.ping_key FROM \"$TENANT\".endpoints e LEFT JOIN public.endpoint_state s
             ON s.endpoint_id = e.id WHERE e.ping_key IS NOT NULL AND s.status IS DISTINCT FROM 'up'" |
        xargs -P 64 -I{} curl -fsS --max-time 30 -o /dev/null "$BASE_URL{}" || true
    for ((i = 0; i < 600; i++)); do
        up=$(bsql -c "SELECT count(*) FROM public.endpoint_state WHERE tenant_id = '$TENANT' AND status = 'up'")
        [ "$up" -ge "$MONITORS" ] && break
        sleep 0.25
    done
fi
[ "$up" -ge "$MONITORS" ] || bdie "only $up of $MONITORS monitors are up before the lapse"
AT=$(bsql -c "SELECT to_char((date_trunc('second', now()) + interval '3 seconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
bsql -c "UPDATE public.heartbeat_state SET deadline_at = '$AT', next_expected_at = '$AT' WHERE tenant_id = '$TENANT'" >/dev/null
bsay "all $MONITORS deadlines set to $AT"
before=$(cpu_snapshot)
t0=$(date +%s.%N)
down=0
for ((i = 0; i < 600; i++)); do
    down=$(bsql -c "SELECT count(*) FROM public.endpoint_state WHERE tenant_id = '$TENANT' AND status = 'down'")
    [ "$down" -ge "$MONITORS" ] && break
    sleep 0.1
done
wall_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
after=$(cpu_snapshot)
lapse=$(bsql -c "SELECT json_build_object(
          'down', count(*),
          'first_s', round(extract(epoch FROM min(changed_at) - '$AT'::timestamptz)::numeric, 3),
          'p50_s', round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY changed_at - '$AT'::timestamptz))::numeric, 3),
          'p99_s', round(extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY changed_at - '$AT'::timestamptz))::numeric, 3),
          'last_s', round(extract(epoch FROM max(changed_at) - '$AT'::timestamptz)::numeric, 3))
        FROM public.endpoint_state WHERE tenant_id = '$TENANT' AND status = 'down'")
incidents=$(bsql -c "SELECT count(*) FROM \"$TENANT\".incidents WHERE closed_at IS NULL")
lapse_cpu=$(cpu_delta "$before" "$after" "$wall_s")
printf '\nlapse: %s of %s down; after the deadline: first %s s, p50 %s s, p99 %s s, last %s s (budget: all within 2 s); %s incidents open\n' \
    "$(jq .down <<<"$lapse")" "$MONITORS" "$(jq .first_s <<<"$lapse")" "$(jq .p50_s <<<"$lapse")" \
    "$(jq .p99_s <<<"$lapse")" "$(jq .last_s <<<"$lapse")" "$incidents" >&2
printf '(seeding: %s monitors created through the API in %s s; load average now: %s)\n' "$MONITORS" "$create_s" "$(loadavg)" >&2

result=$(jq -n --argjson res "$res" --argjson codes "$codes" --argjson cpu "$cpu" --argjson lapse "$lapse" \
    --argjson lapse_cpu "$lapse_cpu" --argjson machine "$(machine_json)" \
    --arg at "$(date -u +%FT%TZ)" --arg cmd "ops/sw bench heartbeats --monitors $MONITORS" \
    --arg th "$THREADS" --arg c "$CONNS" --arg s "$SECS" --arg m "$MONITORS" --arg ok "$ok" \
    --arg pps "$pings_per_s" --arg stored "$stored" --arg drain "$drain_s" --arg lb "$la_before" \
    --arg la "$la_after" --arg deadline "$AT" --arg inc "$incidents" --arg cs "$create_s" \
    '{bench: "heartbeats", at: $at, command: $cmd, monitors: ($m|tonumber),
      wrk: {threads: ($th|tonumber), connections: ($c|tonumber), seconds: ($s|tonumber), script: "ops/bench/wrk/pings.lua"},
      settings: {seeding: "1 tenant via API sign-up (Pro by SQL), every heartbeat via POST /api/endpoints/ (period 3600 s, grace 0)",
                 lapse: "every heartbeat_state.deadline_at set BY SQL to one instant 3 s ahead",
                 stopped_during_run: ["scheduler", "prober"], create_s: ($cs|tonumber)},
      pings: {accepted: ($ok|tonumber), per_s: ($pps|tonumber), statuses: $codes, wrk: $res, cpu: $cpu,
              stored: ($stored|tonumber), drain_after_run_s: ($drain|tonumber),
              loadavg_before: $lb, loadavg_after: $la},
      lapse: ($lapse + {deadline: $deadline, incidents_open: ($inc|tonumber), cpu: $lapse_cpu}),
      budget: {pings_per_s_min: 5000, lapse_all_down_within_s: 2},
      machine: $machine}')
f=$(write_result heartbeats "$result")
bsay "results: ${f#"$BENCH_REPO"/}"
