#!/usr/bin/env bash
# tests/chaos/run.sh — the fault suite, run by `ops/sw chaos` on a fresh instance (var/chaos).
# During steady probing (CHAOS_ENDPOINTS, 300, on targets.py /ok every 30 s) and a steady
# stream of authenticated GET /api/endpoints/ (curl --max-time 10 every 0.2 s, each response
# code counted per phase), it:
#   1. kill -9s each actor in turn and starts it again (ops/sw actor start)
#   2. kill -9s nats-server and starts it again (JetStream file store: nothing may be lost)
#   3. restarts PostgreSQL (fast shutdown, 4 s down, start)
#   4. fills the prober with hanging targets (CHAOS_HANG, 1000 endpoints on /hang, timeout 5 s,
#      due at once; SW_PROBE_CONCURRENCY is 1000 here, so the prober holds 1000 hanging checks)
#      and samples the prober's RSS (DESIGN §10: <= 64 MB with 1000 checks in flight)
#   5. kill -9s the edge and starts it again
# then stops the scheduler, lets the streams drain and checks:
#   - every job the scheduler claimed (per endpoint: the slots between its first due time and
#     its next_due_at now) has a check in check_history or a dead letter, exactly once;
#     nothing the scheduler should have claimed is left unclaimed; no duplicate rows
#   - the API answered 200 again within CHAOS_RECOVER_S (10) of each restart, by itself
#   - every response during an outage was 200, 503 or 504 — never a hang (curl timeout),
#     a 5xx of another kind or a refused connection (except while the edge itself is down)
# Bounded: CHAOS_MAX_S (300) in all, then it stops. Exits 1 on any violation.
set -euo pipefail
BENCH_PROG="ops/sw chaos"
. "$(dirname "${BASH_SOURCE[0]}")/../../ops/bench/args.sh"

usage() {
    cat <<USAGE
Usage: ops/sw chaos

A fresh instance in var/chaos (ports SW_CHAOS_PORT_BASE+1.., default 31301-31309), steady
probing and API requests, then: kill -9 of each actor, of nats-server and of the edge, a
PostgreSQL restart and a prober full of hanging checks. Exits 1 on a lost or duplicated check,
an API that hangs or does not recover. Takes no arguments.

  -h, --help       this text (nothing is installed, built or started)

Settings (environment): CHAOS_ENDPOINTS 300 (1..100000) steady endpoints, CHAOS_HANG 1000
(1..100000) hanging ones, CHAOS_RECOVER_S 10 (1..600) allowed to answer 200 again after a
restart, CHAOS_MAX_S 300 (30..3600) for the whole run.
USAGE
}

if wants_help "$@"; then usage; exit 0; fi
(($# == 0)) || usage_die "unknown argument '$1' (chaos takes no arguments; settings are CHAOS_* variables)"
STEADY=${CHAOS_ENDPOINTS:-300}
HANG=${CHAOS_HANG:-1000}
RECOVER_S=${CHAOS_RECOVER_S:-10}
MAX_S=${CHAOS_MAX_S:-300}
check_int CHAOS_ENDPOINTS "$STEADY" 1 100000
check_int CHAOS_HANG "$HANG" 1 100000
check_int CHAOS_RECOVER_S "$RECOVER_S" 1 600
check_int CHAOS_MAX_S "$MAX_S" 30 3600
[ "${BENCH_ARGS_ONLY:-0}" = 1 ] && exit 0
STEADY=$((10#$STEADY)) HANG=$((10#$HANG)) RECOVER_S=$((10#$RECOVER_S)) MAX_S=$((10#$MAX_S))
. "$(dirname "${BASH_SOURCE[0]}")/../../ops/bench/lib.sh"
INTERVAL=30
DIR=$SW_VAR/chaos
mkdir -p "$DIR"
PHASE_FILE=$DIR/phase
CURL_LOG=$DIR/requests.log
: >"$CURL_LOG"
echo setup >"$PHASE_FILE"
START=$(date +%s)
VIOLATIONS=()
violation() { VIOLATIONS+=("$*"); printf 'VIOLATION: %s\n' "$*" >&2; }

TARGETS_PID= LOOP_PID= WATCHDOG_PID=
cleanup() {
    [ -n "$LOOP_PID" ] && kill "$LOOP_PID" 2>/dev/null || true
    [ -n "$WATCHDOG_PID" ] && kill "$WATCHDOG_PID" 2>/dev/null || true
    [ -n "$TARGETS_PID" ] && kill -- "-$TARGETS_PID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'printf "chaos: out of time (CHAOS_MAX_S=%s): stopping\n" "$MAX_S" >&2; exit 2' USR1
(sleep "$MAX_S" && kill -USR1 $$) &
WATCHDOG_PID=$!

# ---- set-up -------------------------------------------------------------------------------
setsid python3 "$BENCH_REPO/tests/fakes/targets.py" --host 127.0.0.1 --port "$SW_BENCH_TARGET_PORT" \
    --tls-port "$SW_BENCH_TARGET_TLS_PORT" >"$DIR/targets.out" 2>&1 </dev/null &
TARGETS_PID=$!
for ((i = 0; i < 100; i++)); do grep -q READY "$DIR/targets.out" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$DIR/targets.out" || bdie "targets.py did not start"
read -r TENANT EMAIL < <(signup "Chaos Co")
bsql -c "INSERT INTO public.subscriptions (tenant_id, plan) VALUES ('$TENANT', 'pro') ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan" >/dev/null
ACCESS=$(login "$EMAIL")
[ -n "$ACCESS" ] && [ "$ACCESS" != null ] || bdie "login failed"
bsay "seeding $STEADY endpoints (SQL) on http://127.0.0.1:$SW_BENCH_TARGET_PORT/ok/<i> every ${INTERVAL}s"
bsql <<SQL >/dev/null
BEGIN;
SET LOCAL search_path TO "$TENANT", public;
CREATE TEMP TABLE seed ON COMMIT DROP AS
    SELECT gen_random_uuid() AS id, g, date_trunc('second', now()) + make_interval(secs => 2 + g % $INTERVAL) AS d
    FROM generate_series(1, $STEADY) g;
INSERT INTO endpoints (id, name, url, interval_seconds, timeout_seconds, regions)
    SELECT id, 'steady ' || g, 'http://127.0.0.1:$SW_BENCH_TARGET_PORT/ok/' || g, $INTERVAL, 5, '{local}' FROM seed;
INSERT INTO public.schedule (endpoint_id, tenant_id, interval_seconds, regions, next_due_at, url, timeout_seconds)
    SELECT id, '$TENANT', $INTERVAL, '{local}', d, 'http://127.0.0.1:$SW_BENCH_TARGET_PORT/ok/' || g, 5 FROM seed;
CREATE TABLE IF NOT EXISTS public.chaos_first_due (endpoint_id uuid PRIMARY KEY, first_due timestamptz, kind text);
INSERT INTO public.chaos_first_due SELECT id, d, 'steady' FROM seed;
COMMIT;
SQL

# The request loop: "epoch phase http_code curl_exit seconds" per request.
(
    while :; do
        ph=$(cat "$PHASE_FILE")
        ph=${ph:-unknown}
        t=$(date +%s.%N)
        rc=0
        out=$(curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}' \
            -H "Authorization: Bearer $ACCESS" "$BASE_URL/api/endpoints/") || rc=$?
        printf '%s %s %s %s %s\n' "${t%.*}" "$ph" "${out%% *}" "$rc" "${out##* }" >>"$CURL_LOG"
        sleep 0.2
    done
) &
LOOP_PID=$!

# Written whole and renamed: the request loop must never read a half-written phase.
phase() { echo "$1" >"$PHASE_FILE.new" && mv "$PHASE_FILE.new" "$PHASE_FILE"; bsay "phase: $1 (t+$(($(date +%s) - START)) s, load $(loadavg))"; }
api_ok() { [ "$(curl -s -o /dev/null --max-time 3 -w '%{http_code}' -H "Authorization: Bearer $ACCESS" "$BASE_URL/api/endpoints/")" = 200 ]; }
# recover NAME: seconds until GET /api/endpoints/ answers 200 again (or a violation).
declare -A RECOVERY=()
recover() {
    local t0 i
    t0=$(date +%s.%N)
    for ((i = 0; i < RECOVER_S * 3 * 5; i++)); do
        if api_ok; then
            RECOVERY[$1]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
            awk -v r="${RECOVERY[$1]}" -v m="$RECOVER_S" 'BEGIN { exit !(r > m) }' &&
                violation "$1: the API took ${RECOVERY[$1]} s to answer 200 again (> $RECOVER_S s)"
            return 0
        fi
        sleep 0.2
    done
    RECOVERY[$1]=never
    violation "$1: the API did not answer 200 within $((RECOVER_S * 3)) s"
}
kill9() {   # kill9 NAME: SIGKILL the process of run/NAME.pid (ours: started by ops/sw)
    local pid
    pid=$(pid_of "$1")
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || bsay "$1 was not running"
}
start() { "$SW_OPS" actor start "$1" >>"$DIR/ops.log" 2>&1 || violation "ops/sw actor start $1 failed (see $DIR/ops.log)"; }

phase steady
sleep 12
ACTORS=(tenancy auth notify endpoints scheduler prober recorder deadletter billing)
for a in "${ACTORS[@]}"; do
    phase "kill-$a"
    kill9 "$a"
    sleep 3
    start "$a"
    recover "kill-$a"
    sleep 2
done

phase kill-nats
kill9 nats
sleep 3
start nats
recover kill-nats
sleep 3

phase restart-postgres
"$SW_OPS" actor stop postgres >>"$DIR/ops.log" 2>&1 || violation "could not stop postgres"
sleep 4
start postgres
recover restart-postgres
sleep 3

phase hang
bsay "adding $HANG endpoints on /hang (timeout 5 s), all due now"
bsql <<SQL >/dev/null
BEGIN;
SET LOCAL search_path TO "$TENANT", public;
CREATE TEMP TABLE seed ON COMMIT DROP AS
    SELECT gen_random_uuid() AS id, g, date_trunc('second', now()) AS d FROM generate_series(1, $HANG) g;
INSERT INTO endpoints (id, name, url, interval_seconds, timeout_seconds, regions, failure_threshold)
    SELECT id, 'hang ' || g, 'http://127.0.0.1:$SW_BENCH_TARGET_PORT/hang?' || g, 60, 5, '{local}', 10 FROM seed;
INSERT INTO public.schedule (endpoint_id, tenant_id, interval_seconds, regions, next_due_at, url, timeout_seconds, failure_threshold)
    SELECT id, '$TENANT', 60, '{local}', d, 'http://127.0.0.1:$SW_BENCH_TARGET_PORT/hang?' || g, 5, 10 FROM seed;
INSERT INTO public.chaos_first_due SELECT id, d, 'hang' FROM seed;
COMMIT;
SQL
PROBER_PID=$(pid_of prober)
RSS_MAX=0
for ((i = 0; i < 12; i++)); do
    sleep 1
    r=$(rss_kb "$PROBER_PID" VmRSS)
    ((r > RSS_MAX)) && RSS_MAX=$r
done
INFLIGHT=$(js_consumer SW_JOBS probers-local)
bsay "prober: RSS max $((RSS_MAX / 1024)) MB with the hanging checks in flight (jobs pending/unacked/redelivered: $INFLIGHT)"
api_ok || violation "hang: the API failed while the prober was full"
# The hanging endpoints get no second job (due tomorrow); their first jobs run out their 3
# attempts and are dead-lettered. (Deleting them would make the recorder drop their results.)
bsql -c "UPDATE public.schedule SET next_due_at = now() + interval '1 day' WHERE endpoint_id IN (SELECT endpoint_id FROM public.chaos_first_due WHERE kind = 'hang')" >/dev/null
sleep 2

phase kill-edge
kill9 edge
sleep 2
start edge
recover kill-edge

# ---- settle, stop, drain ------------------------------------------------------------------
phase settle
# Long enough for the last hanging jobs to use up their attempts (5 s + 1 s + 5 s + 3 s + 5 s).
sleep 25
echo done >"$PHASE_FILE"
kill "$LOOP_PID" 2>/dev/null || true
LOOP_PID=
"$SW_OPS" actor stop scheduler >>"$DIR/ops.log" 2>&1
T_STOP=$(date +%s)
bsay "scheduler stopped; draining"
DRAINED=false
for ((i = 0; i < 60; i++)); do
    read -r a b _ < <(js_consumer SW_JOBS probers-local)
    read -r c d _ < <(js_consumer SW_RESULTS recorder)
    read -r e f _ < <(js_consumer SW_ADVISORIES deadletter)
    if [ "$((a + b + c + d + e + f))" = 0 ]; then DRAINED=true; break; fi
    sleep 1
done
[ "$DRAINED" = true ] || violation "the streams did not drain within 60 s (jobs $a+$b, results $c+$d, advisories $e+$f)"

# ---- the books ----------------------------------------------------------------------------
books=$(bsql <<SQL
WITH claimed AS (   -- every slot the scheduler claimed: first_due + k * interval < next_due_at
    SELECT f.endpoint_id, f.kind, f.first_due + make_interval(secs => k * s.interval_seconds) AS due_at
    FROM public.chaos_first_due f JOIN public.schedule s USING (endpoint_id),
         generate_series(0, 1000) k
    WHERE f.kind = 'steady' AND f.first_due + make_interval(secs => k * s.interval_seconds) < s.next_due_at
), recorded AS (
    SELECT endpoint_id, due_at, count(*) FILTER (WHERE ok) AS oks, count(*) AS rows,
           count(DISTINCT attempt) AS attempts
    FROM public.check_history GROUP BY 1, 2
), dead AS (
    SELECT endpoint_id, to_timestamp((job->>'due_epoch')::bigint) AS due_at, count(*) AS n
    FROM public.dead_letters GROUP BY 1, 2
)
SELECT json_build_object(
  'claimed_steady', (SELECT count(*) FROM claimed WHERE kind = 'steady'),
  'missing_steady', (SELECT count(*) FROM claimed c WHERE kind = 'steady' AND NOT EXISTS
        (SELECT 1 FROM recorded r WHERE r.endpoint_id = c.endpoint_id AND r.due_at = c.due_at)
        AND NOT EXISTS (SELECT 1 FROM dead d WHERE d.endpoint_id = c.endpoint_id AND d.due_at = c.due_at)),
  'recorded_steady_ok', (SELECT count(*) FROM recorded r JOIN public.chaos_first_due f USING (endpoint_id)
        WHERE f.kind = 'steady' AND r.oks = 1),
  'steady_multi_ok', (SELECT count(*) FROM recorded WHERE oks > 1),
  'dup_rows', (SELECT count(*) - count(DISTINCT (job_id, attempt)) FROM public.check_history),
  'unexpected_jobs', (SELECT count(*) FROM recorded r JOIN public.chaos_first_due f USING (endpoint_id)
        WHERE (f.kind = 'steady' AND NOT EXISTS
               (SELECT 1 FROM claimed c WHERE c.endpoint_id = r.endpoint_id AND c.due_at = r.due_at))
           OR (f.kind = 'hang' AND r.due_at <> f.first_due)),
  'hang_jobs', (SELECT count(DISTINCT (endpoint_id, due_at)) FROM recorded r JOIN public.chaos_first_due f
        USING (endpoint_id) WHERE f.kind = 'hang'),
  'hang_dead_lettered', (SELECT count(*) FROM dead d JOIN public.chaos_first_due f USING (endpoint_id) WHERE f.kind = 'hang'),
  'hang_missing', (SELECT count(*) FROM public.chaos_first_due f WHERE kind = 'hang' AND NOT EXISTS
        (SELECT 1 FROM recorded r WHERE r.endpoint_id = f.endpoint_id) AND NOT EXISTS
        (SELECT 1 FROM dead d WHERE d.endpoint_id = f.endpoint_id)),
  'hang_incomplete', (SELECT count(*) FROM recorded r JOIN public.chaos_first_due f USING (endpoint_id)
        WHERE f.kind = 'hang' AND r.attempts < 3 AND r.oks = 0 AND NOT EXISTS
        (SELECT 1 FROM dead d WHERE d.endpoint_id = r.endpoint_id AND d.due_at = r.due_at)),
  'dead_dups', (SELECT count(*) FROM dead WHERE n > 1),
  'steady_failed_rows', (SELECT count(*) FROM public.check_history c JOIN public.chaos_first_due f USING (endpoint_id)
        WHERE f.kind = 'steady' AND NOT c.ok),
  'steady_errors', (SELECT coalesce(json_object_agg(e, n), '{}') FROM (SELECT coalesce(c.error, 'http ' || c.http_status) e, count(*) n
        FROM public.check_history c JOIN public.chaos_first_due f USING (endpoint_id)
        WHERE f.kind = 'steady' AND NOT c.ok GROUP BY 1) x),
  'overdue_unclaimed', (SELECT count(*) FROM public.schedule WHERE next_due_at < to_timestamp($T_STOP - 2)),
  'hang_rows', (SELECT count(*) FROM public.check_history c JOIN public.chaos_first_due f USING (endpoint_id) WHERE f.kind = 'hang'),
  'steady_lateness_p99_ms', (SELECT round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM c.checked_at - c.due_at) * 1000))::numeric)
        FROM public.check_history c JOIN public.chaos_first_due f USING (endpoint_id) WHERE f.kind = 'steady' AND c.attempt = 1))
SQL
)
for k in missing_steady steady_multi_ok dup_rows unexpected_jobs hang_missing hang_incomplete dead_dups overdue_unclaimed; do
    v=$(jq ".$k" <<<"$books")
    [ "$v" = 0 ] || violation "$k = $v (must be 0)"
done

# ---- the requests -------------------------------------------------------------------------
codes=$(awk '{ key = $2 " " ($4 == 28 ? "timeout" : ($4 == 7 ? "refused" : ($4 != 0 ? "curl" $4 : $3))); n[key]++ }
             END { for (k in n) print k, n[k] }' "$CURL_LOG" | sort)
while read -r ph code n; do
    case $code in
        200 | 503 | 504) ;;
        # The edge itself killed: its port refuses (7), a request in flight is reset (56) or
        # gets an empty reply (52). Anywhere else that is a failure.
        refused | curl56 | curl52) [ "$ph" = kill-edge ] || violation "$ph: $n requests failed with curl $code" ;;
        *) violation "$ph: $n requests got $code (expected 200, 503 or 504)" ;;
    esac
done <<<"$codes"
slowest=$(sort -k5 -g "$CURL_LOG" | tail -n1 | awk '{print $5 " s (" $2 ", code " $3 ")"}')
codes_json=$(awk '{ print }' <<<"$codes" | jq -R -s 'split("\n") | map(select(length > 0) | split(" "))
    | reduce .[] as $x ({}; .[$x[0]] += {($x[1]): ($x[2]|tonumber)})')
rec_json=$(for k in "${!RECOVERY[@]}"; do printf '%s %s\n' "$k" "${RECOVERY[$k]}"; done |
    jq -R -s 'split("\n") | map(select(length > 0) | split(" ")) | map({(.[0]): (.[1] | tonumber? // .)}) | add')
viol_json=$(printf '%s\n' "${VIOLATIONS[@]+"${VIOLATIONS[@]}"}" | jq -R -s 'split("\n") | map(select(length > 0))')
result=$(jq -n --argjson books "$books" --argjson codes "$codes_json" --argjson rec "$rec_json" \
    --argjson viol "$viol_json" --argjson rss "$RSS_MAX" --arg hang "$HANG" --arg inflight "$INFLIGHT" \
    --arg at "$(date -u +%FT%TZ)" --arg la "$(loadavg)" --arg took "$(($(date +%s) - START))" \
    --arg slow "$slowest" --argjson machine "$(machine_json)" --argjson drained "$DRAINED" \
    '{suite: "chaos", at: $at, command: "ops/sw chaos", took_s: ($took|tonumber), ok: ($viol | length == 0),
      violations: $viol, books: $books, drained: $drained, responses_by_phase: $codes, slowest_request: $slow,
      api_recovery_s: $rec, prober_rss_kb_with_hanging_checks: $rss, hanging_endpoints: ($hang|tonumber),
      probers_consumer_during_hang: $inflight,
      settings: {SW_PROBE_CONCURRENCY: env.SW_PROBE_CONCURRENCY, SW_PROBE_RETRY_MS: env.SW_PROBE_RETRY_MS,
                 SW_BUS_TIMEOUT_MS: (env.SW_BUS_TIMEOUT_MS // "5000 (default)")},
      loadavg_end: $la, machine: $machine}')
f=$(write_result chaos "$result")

{
    printf '\n======================== chaos report (%s s) ========================\n' "$(($(date +%s) - START))"
    printf 'responses per phase (GET /api/endpoints/ every 0.2 s, curl --max-time 10):\n'
    jq -r 'to_entries[] | "  \(.key | . + " " * (18 - length)) \(.value | to_entries | map("\(.key): \(.value)") | join(", "))"' <<<"$codes_json"
    printf 'slowest request: %s\n' "$slowest"
    printf 'API back to 200 after each restart (s): %s\n' "$(jq -c . <<<"$rec_json")"
    printf 'books: %s\n' "$(jq -c . <<<"$books")"
    printf 'prober RSS with %s hanging checks: max %s MB (budget <= 64 MB with 1000 in flight)\n' "$HANG" "$((RSS_MAX / 1024))"
    printf 'load average at the end: %s\n' "$(loadavg)"
    printf 'results: %s\n' "${f#"$BENCH_REPO"/}"
    if ((${#VIOLATIONS[@]})); then
        printf '%s VIOLATION(S):\n' "${#VIOLATIONS[@]}"; printf '  - %s\n' "${VIOLATIONS[@]}"
    else
        printf 'no violations\n'
    fi
} >&2
((${#VIOLATIONS[@]} == 0)) || exit 1
