#!/usr/bin/env bash
# ops/bench/pipeline.sh — run by `ops/sw bench pipeline` on a fresh instance (var/bench).
#   --endpoints N (10000)  --interval S (30, the schedule's minimum)  --minutes M (5)  [--tls]
#   (`ops/sw bench pipeline --help` lists every option.)
# Offered load: N/S checks per second. The target is nginx on 127.0.0.1 answering 200 to
# everything (ops/bench/nginx.conf.tmpl); targets.py is measured next to it for comparison.
# Seeding is direct SQL, for speed: one organization signed up and verified through the API
# (so its schema is real), made Pro, then N rows in its `endpoints` table and in
# public.schedule (url http://127.0.0.1:PORT/e/<i>, regions {local}, timeout 5 s), their first
# due times on whole seconds spread evenly over the first S seconds (whole seconds, because a
# job is named by its due second: a check's due_at is that second, so lateness is exact).
# Checks are counted in public.check_history (the exceptions in check_results and the packed
# runs of successes in check_runs, expanded: schema/public/0013_1_check_runs.sql).
# The real scheduler, prober and recorder run for M minutes; then the scheduler is stopped, the
# streams drain (up to BENCH_DRAIN_S, 180 s) and the books are balanced:
#   published  = probe jobs JetStream stored in SW_JOBS during the run (its sequence numbers)
#   lost       = published - jobs with a check in check_history - dead letters - still queued
#   duplicates = rows sharing (job_id, attempt) + jobs with more than one successful row
#   lateness   = checked_at - due_at of first attempts (due → probed → result published)
set -euo pipefail
BENCH_PROG="ops/sw bench pipeline"
. "$(dirname "${BASH_SOURCE[0]}")/args.sh"

usage() {
    cat <<USAGE
Usage: ops/sw bench pipeline [--endpoints N] [--interval S] [--minutes M] [--probers K]
                             [--schedulers K] [--recorders K] [--tls [--tls-key rsa|ecdsa]]

A fresh instance in var/bench (ports SW_BENCH_PORT_BASE+1.., default 31101-31109): N endpoints
seeded by SQL on a local nginx, checked by the real scheduler, prober(s) and recorder for M
minutes; then the books are balanced. Exits 1 on a lost or duplicated check or a died actor.

  --endpoints N    endpoints (1..2000000, default 10000); N/S checks per second are offered
  --interval S     seconds between checks of an endpoint (30..86400, default 30)
  --minutes M      length of the run (above 0, at most 120; decimals allowed; default 5)
  --probers K      copies of sw-prober sharing the consumer (1..9, default 1)
  --schedulers K   copies of sw-scheduler (1..9, default 1)
  --recorders K    copies of sw-recorder sharing its consumer (1..9, default 1)
  --tls            HTTPS targets: nginx with a certificate of a local CA the bench makes with
                   openssl (var/bench-ca/), a full TLS handshake per check; the prober trusts
                   that CA through SW_PROBE_CA_FILE (test-only: refused when SW_ENV=production)
  --tls-key K      the target's key: rsa (2048, default) or ecdsa (P-256); still a full
                   handshake per check (nginx keeps no session cache and sends no tickets)
  -h, --help       this text (nothing is installed, built or started)

Settings (environment): BENCH_DRAIN_S 180 (1..3600), how long the streams may drain at the end.
Prints checks/s, lateness p50/p99, lost, duplicates, CPU cores and CPU µs per check of each
process, and the bytes on disk per recorded check (check results, roll-ups and their indexes)
with a projection for 100,000 endpoints every 60 s kept 7 and 90 days.
USAGE
}

if wants_help "$@"; then usage; exit 0; fi
N=10000 INTERVAL=30 MINUTES=5 PROBERS=1 SCHEDULERS=1 RECORDERS=1 TLS=0 TLS_KEY=rsa
while (($#)); do
    case $1 in
        --probers) need_value "$@"; PROBERS=$2; shift 2 ;;        # copies of sw-prober (one consumer, shared)
        --schedulers) need_value "$@"; SCHEDULERS=$2; shift 2 ;;  # copies of sw-scheduler (SKIP LOCKED)
        --recorders) need_value "$@"; RECORDERS=$2; shift 2 ;;    # copies of sw-recorder (one consumer)
        --tls-key) need_value "$@"; TLS_KEY=$2; shift 2 ;;
        --endpoints) need_value "$@"; N=$2; shift 2 ;;
        --interval) need_value "$@"; INTERVAL=$2; shift 2 ;;
        --minutes) need_value "$@"; MINUTES=$2; shift 2 ;;
        --tls) TLS=1; shift ;;
        *) usage_die "unknown argument '$1'" ;;
    esac
done
check_int --endpoints "$N" 1 2000000
# 30: public.schedule's CHECK; raise --endpoints for more checks/s.
check_int --interval "$INTERVAL" 30 86400
check_num --minutes "$MINUTES" 120
check_int --probers "$PROBERS" 1 9
check_int --schedulers "$SCHEDULERS" 1 9
check_int --recorders "$RECORDERS" 1 9
case $TLS_KEY in rsa | ecdsa) ;; *) usage_die "--tls-key must be rsa or ecdsa, not '$TLS_KEY'" ;; esac
check_int BENCH_DRAIN_S "${BENCH_DRAIN_S:-180}" 1 3600
[ "${BENCH_ARGS_ONLY:-0}" = 1 ] && exit 0
N=$((10#$N)) INTERVAL=$((10#$INTERVAL)) PROBERS=$((10#$PROBERS)) SCHEDULERS=$((10#$SCHEDULERS))
RECORDERS=$((10#$RECORDERS))

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUN_S=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
((RUN_S >= 1)) || bdie "--minutes $MINUTES is under a second"
DRAIN_S=${BENCH_DRAIN_S:-180}
PORT=$SW_BENCH_TARGET_PORT
NGX=$SW_VAR/nginx

# ---- the target ---------------------------------------------------------------------------
mkdir -p "$NGX/tmp"
TARGET_URL=http://127.0.0.1:$PORT
TLS_SED=()
if [ "$TLS" = 1 ]; then
    # A local CA and a server certificate for 127.0.0.1 signed by it (RSA 2048, the common
    # case), made afresh each run; the prober trusts ca.crt through SW_PROBE_CA_FILE (ops/sw).
    CA=$SW_VAR/bench-ca
    mkdir -p "$CA"
    [ "${SW_PROBE_CA_FILE:-}" = "$CA/ca.crt" ] || bdie "--tls needs SW_PROBE_CA_FILE=$CA/ca.crt (ops/sw sets it)"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=StatusWatch bench CA" \
        -keyout "$CA/ca.key" -out "$CA/ca.crt" >/dev/null 2>&1 || bdie "openssl: the CA failed"
    if [ "$TLS_KEY" = ecdsa ]; then KEYARGS=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); else KEYARGS=(-newkey rsa:2048); fi
    openssl req "${KEYARGS[@]}" -nodes -subj "/CN=127.0.0.1" -keyout "$CA/server.key" \
        -out "$CA/server.csr" >/dev/null 2>&1 || bdie "openssl: the server key failed"
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$CA/server.ext"
    openssl x509 -req -in "$CA/server.csr" -CA "$CA/ca.crt" -CAkey "$CA/ca.key" -CAcreateserial \
        -days 2 -extfile "$CA/server.ext" -out "$CA/server.crt" >/dev/null 2>&1 || bdie "openssl: signing failed"
    TARGET_URL=https://127.0.0.1:$SW_BENCH_TARGET_TLS_PORT
    TLS_SED=(-e 's/^#TLS //')
fi
sed -e "s|@PORT@|$PORT|g" -e "s|@TLS_PORT@|$SW_BENCH_TARGET_TLS_PORT|g" -e "s|@DIR@|$NGX|g" \
    "${TLS_SED[@]+"${TLS_SED[@]}"}" "$BENCH_REPO/ops/bench/nginx.conf.tmpl" >"$NGX/nginx.conf"
setsid nginx -c "$NGX/nginx.conf" -p "$NGX" </dev/null >>"$SW_VAR/log/nginx.log" 2>&1 &
NGINX_PID=$!
TARGETS_PID=
cleanup() {
    kill "$NGINX_PID" 2>/dev/null || true
    [ -n "$TARGETS_PID" ] && kill -- "-$TARGETS_PID" 2>/dev/null || true
    [ -n "${SAMPLER_PID:-}" ] && kill "$SAMPLER_PID" 2>/dev/null || true
}
trap cleanup EXIT
for ((i = 0; i < 50; i++)); do curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/ok" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/ok" || bdie "nginx did not start (see $NGX/error.log)"
if [ "$TLS" = 1 ]; then
    curl -fsS -o /dev/null --max-time 5 --cacert "$CA/ca.crt" "$TARGET_URL/ok" ||
        bdie "the TLS target does not verify against the bench CA (see $NGX/error.log)"
fi

# How fast each candidate target is, with a new connection per request like the prober
# (wrk -H 'Connection: close'), 3 s each.
target_rate() {
    wrk -t1 -c32 -d3s -H 'Connection: close' "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'
}
if [ "$TLS" = 1 ]; then
    NGINX_RATE=$(target_rate "$TARGET_URL/ok") TARGETS_RATE=0   # wrk: full handshake each
    bsay "target: nginx over TLS ${NGINX_RATE:-?} req/s (new connection and full handshake each)"
else
    setsid python3 "$BENCH_REPO/tests/fakes/targets.py" --host 127.0.0.1 --port "$SW_BENCH_TARGET_TLS_PORT" \
        --tls-port 0 >"$SW_VAR/log/targets.out" 2>&1 </dev/null &
    TARGETS_PID=$!
    for ((i = 0; i < 50; i++)); do grep -q READY "$SW_VAR/log/targets.out" 2>/dev/null && break; sleep 0.1; done
    NGINX_RATE=$(target_rate "http://127.0.0.1:$PORT/ok")
    TARGETS_RATE=$(target_rate "http://127.0.0.1:$SW_BENCH_TARGET_TLS_PORT/ok")
    kill -- "-$TARGETS_PID" 2>/dev/null || true
    TARGETS_PID=
    bsay "target: nginx ${NGINX_RATE:-?} req/s vs targets.py ${TARGETS_RATE:-?} req/s (new connection each): using nginx"
fi

# ---- seeding ------------------------------------------------------------------------------
read -r TENANT _ < <(signup "Pipeline Bench")
bsql -c "INSERT INTO public.subscriptions (tenant_id, plan) VALUES ('$TENANT', 'pro') ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan" >/dev/null
sleep 1   # the sign-up's mail job is in SW_JOBS by now
SEQ0=$(js_last_seq SW_JOBS)
bsay "seeding $N endpoints by SQL (interval ${INTERVAL}s: $(awk -v n="$N" -v s="$INTERVAL" 'BEGIN{printf "%.0f", n/s}') checks/s offered)"
T_SEED=$(date +%s)
bsql <<SQL >/dev/null
BEGIN;
SET LOCAL search_path TO "$TENANT", public;
CREATE TEMP TABLE seed ON COMMIT DROP AS
    SELECT gen_random_uuid() AS id, g FROM generate_series(1, $N) g;
INSERT INTO endpoints (id, name, url, interval_seconds, timeout_seconds, regions)
    SELECT id, 'bench ' || g, '$TARGET_URL/e/' || g, $INTERVAL, 5, '{local}' FROM seed;
-- The first due times count from when the endpoints are in (clock_timestamp, once), plus
-- room for this insert and the commit (N/10,000 s), so the run never starts with a backlog.
INSERT INTO public.schedule (endpoint_id, tenant_id, interval_seconds, regions, next_due_at, url,
                             timeout_seconds)
    WITH b AS MATERIALIZED (SELECT date_trunc('second', clock_timestamp())
                                   + make_interval(secs => 10 + $N / 10000) AS base)
    SELECT id, '$TENANT', $INTERVAL, '{local}',
           b.base + make_interval(secs => g % $INTERVAL), '$TARGET_URL/e/' || g, 5
    FROM seed, b;
COMMIT;
SQL
T0=$(bsql -c "SELECT extract(epoch FROM min(next_due_at))::bigint FROM public.schedule")
(($(date +%s) < T0)) || bsay "WARNING: seeding overran the first due time by $(($(date +%s) - T0)) s: the run starts with a backlog"
T_END=$((T0 + RUN_S))
bsay "seeded in $(($(date +%s) - T_SEED)) s; first checks due at $(date -u -d "@$T0" +%T), running until $(date -u -d "@$T_END" +%T) UTC"

# Disk of the check history: "results runs rollups" in bytes, pg_total_relation_size (heap,
# indexes, TOAST) of every partition of check_results, of check_runs and of the
# public.check_rollup* tables.
disk_bytes() {
    bsql -F ' ' <<'SQL'
WITH rels AS (
    SELECT relid AS oid, 'results' AS kind FROM pg_partition_tree('public.check_results') WHERE isleaf
    UNION ALL
    SELECT relid, 'runs' FROM pg_partition_tree('public.check_runs') WHERE isleaf
    UNION ALL
    SELECT c.oid, 'rollups' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'check\_rollup%')
SELECT coalesce(sum(pg_total_relation_size(oid)) FILTER (WHERE kind = 'results'), 0),
       coalesce(sum(pg_total_relation_size(oid)) FILTER (WHERE kind = 'runs'), 0),
       coalesce(sum(pg_total_relation_size(oid)) FILTER (WHERE kind = 'rollups'), 0) FROM rels
SQL
}
# Before any check: the empty tables' own pages, subtracted from the figure at the end.
read -r R0 N0 U0 <<<"$(disk_bytes)"

# ---- the run ------------------------------------------------------------------------------
# More copies of an actor: `ops/sw actor start NAME 2..9` (same consumer / queue group).
for ((k = 2; k <= PROBERS; k++)); do "$SW_OPS" actor start prober "$k" >/dev/null 2>&1 || bdie "could not start prober $k"; done
for ((k = 2; k <= SCHEDULERS; k++)); do "$SW_OPS" actor start scheduler "$k" >/dev/null 2>&1 || bdie "could not start scheduler $k"; done
for ((k = 2; k <= RECORDERS; k++)); do "$SW_OPS" actor start recorder "$k" >/dev/null 2>&1 || bdie "could not start recorder $k"; done
PROBER_PID=$(pid_of prober)
LA_START=$(loadavg)
sleep $((T0 > $(date +%s) ? T0 - $(date +%s) : 0))
CPU0=$(cpu_snapshot)
declare -A CRASHED=() RSS_FIRST=() RSS_LAST=() RSS_PEAK=()
RSS_MAX=0
# Every actor's RSS (kB): the first sample a minute in (after start-up and the first
# interval's allocations), the last one, and the highest sampled.
sample_rss() {
    local a pid v
    for a in "${BENCH_PROCS[@]}"; do
        [ "$a" = postgres ] && continue
        pid=$(pid_of "$a"); [ -n "$pid" ] || continue
        v=$(rss_kb "$pid" VmRSS); [ -n "$v" ] && ((v > 0)) || continue
        if (($(date +%s) - T0 >= 60)) && [ -z "${RSS_FIRST[$a]:-}" ]; then RSS_FIRST[$a]=$v; fi
        RSS_LAST[$a]=$v
        ((v > ${RSS_PEAK[$a]:-0})) && RSS_PEAK[$a]=$v
    done
    return 0
}
next_report=$(($(date +%s) + 30))
while (($(date +%s) < T_END)); do
    sleep 5
    r=$(rss_kb "$PROBER_PID" VmRSS); ((r > RSS_MAX)) && RSS_MAX=$r
    sample_rss
    for a in scheduler prober recorder; do
        pid=$(pid_of "$a")
        if [ -z "${CRASHED[$a]:-}" ] && ! kill -0 "$pid" 2>/dev/null; then
            CRASHED[$a]=$(($(date +%s) - T0))
            bsay "sw-$a (pid $pid) has died after ${CRASHED[$a]} s: $(tail -n 2 "$SW_VAR/log/$a.log" | tr '\n' ' ')"
        fi
    done
    if (($(date +%s) >= next_report)); then
        next_report=$(($(date +%s) + 30))
        done_n=$(bsql -c "SELECT (SELECT count(*) FROM public.check_results WHERE checked_at >= to_timestamp($T0))
                                 + (SELECT coalesce(sum(n), 0) FROM public.check_runs)")
        read -r jp ja _ < <(js_consumer SW_JOBS probers-local)
        read -r rp ra _ < <(js_consumer SW_RESULTS recorder)
        bsay "$(($(date +%s) - T0)) s: $done_n results ($((done_n / ($(date +%s) - T0 + 1)))/s), jobs pending $jp (+$ja unacked), results pending $rp (+$ra), prober RSS $((r / 1024)) MB, load $(loadavg)"
    fi
done
CPU1=$(cpu_snapshot)
LA_END=$(loadavg)
read -r JOBS_PEND JOBS_ACK _ < <(js_consumer SW_JOBS probers-local)
read -r RES_PEND RES_ACK _ < <(js_consumer SW_RESULTS recorder)
RSS_HWM=$(rss_kb "$PROBER_PID" VmHWM)
bsay "time is up: stopping the scheduler, draining (up to ${DRAIN_S}s)"
"$SW_OPS" actor stop scheduler >/dev/null 2>&1
for ((k = 2; k <= SCHEDULERS; k++)); do "$SW_OPS" actor stop scheduler "$k" >/dev/null 2>&1 || true; done
BACKLOG=$(bsql -c "SELECT count(*) FROM public.schedule WHERE next_due_at < to_timestamp($T_END)")
DRAINED=false
for ((i = 0; i < DRAIN_S; i++)); do
    read -r a b _ < <(js_consumer SW_JOBS probers-local)
    read -r c d _ < <(js_consumer SW_RESULTS recorder)
    if [ "$((a + b + c + d))" = 0 ]; then DRAINED=true; break; fi
    [ -n "${CRASHED[prober]:-}${CRASHED[recorder]:-}" ] && break   # nobody left to drain them
    sleep 1
done
DRAIN_TOOK=$i
if [ "$DRAINED" != true ]; then
    # Not drained in time: stop the prober(s) and the recorder (they finish and ack what they
    # hold) so the counts below are taken on a still picture, not a moving one.
    bsay "not drained: stopping the prober(s) and the recorder to count"
    "$SW_OPS" actor stop prober >/dev/null 2>&1 || true
    for ((k = 2; k <= PROBERS; k++)); do "$SW_OPS" actor stop prober "$k" >/dev/null 2>&1 || true; done
    "$SW_OPS" actor stop recorder >/dev/null 2>&1 || true
    for ((k = 2; k <= RECORDERS; k++)); do "$SW_OPS" actor stop recorder "$k" >/dev/null 2>&1 || true; done
fi
crashed_json=$(for k in "${!CRASHED[@]}"; do printf '%s %s\n' "$k" "${CRASHED[$k]}"; done |
    jq -R -s 'split("\n") | map(select(length > 0) | split(" ") | {(.[0]): (.[1]|tonumber)}) | add // {}')
read -r JOBS_LEFT JOBS_LEFT_ACK _ < <(js_consumer SW_JOBS probers-local)
read -r RES_LEFT RES_LEFT_ACK _ < <(js_consumer SW_RESULTS recorder)
SEQ1=$(js_last_seq SW_JOBS)
PUBLISHED=$((SEQ1 - SEQ0))

stats=$(bsql <<SQL
CREATE TEMP TABLE h AS SELECT job_id, attempt, ok, due_at, checked_at, error, http_status, total_ms
    FROM public.check_history;
SELECT json_build_object(
  'results_in_window', (SELECT count(*) FROM h
                        WHERE checked_at >= to_timestamp($T0) AND checked_at < to_timestamp($T_END)),
  'rows_total', (SELECT count(*) FROM h),
  'raw_rows', (SELECT count(*) FROM public.check_results),
  'runs', (SELECT count(*) FROM public.check_runs),
  'packed_checks', (SELECT coalesce(sum(n), 0) FROM public.check_runs),
  'jobs_recorded', (SELECT count(DISTINCT job_id) FROM h),
  'ok_rows', (SELECT count(*) FROM h WHERE ok),
  'retried_rows', (SELECT count(*) FROM h WHERE attempt > 1),
  'dup_job_attempt', (SELECT count(*) - count(DISTINCT (job_id, attempt)) FROM h),
  'dup_ok_jobs', (SELECT count(*) FROM (SELECT job_id FROM h WHERE ok
                                       GROUP BY job_id HAVING count(*) > 1) x),
  'dead_letters', (SELECT count(*) FROM public.dead_letters),
  'errors', (SELECT coalesce(json_object_agg(e, n), '{}') FROM (SELECT coalesce(error, 'http ' || http_status) e,
             count(*) n FROM h WHERE NOT ok GROUP BY 1 ORDER BY 2 DESC LIMIT 5) x),
  'lateness_ms', (SELECT json_build_object(
        'p50', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l))::numeric, 1),
        'p99', round((percentile_cont(0.99) WITHIN GROUP (ORDER BY l))::numeric, 1),
        'max', round(max(l)::numeric, 1))
     FROM (SELECT extract(epoch FROM checked_at - due_at) * 1000 AS l FROM h
           WHERE attempt = 1 AND due_at >= to_timestamp($T0) AND due_at < to_timestamp($T_END)) x),
  'probe_total_ms_p50', (SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY total_ms))::numeric, 2)
                         FROM h WHERE ok))
SQL
)
CPU=$(cpu_delta "$CPU0" "$CPU1" "$RUN_S" "$(jq .results_in_window <<<"$stats")")
# Disk per recorded check: every partition of check_results and check_runs and the roll-up
# tables, with their indexes and TOAST (pg_total_relation_size), over the checks recorded (the
# instance is fresh: all rows are this run's). Projection for 100,000 endpoints every 60 s
# kept 7 / 90 days, from this run's parts: 28 bytes per packed success, the measured bytes per
# run row beyond its entries (one row per endpoint and 10 minutes: 144 a day), per exception
# row (at this run's share of exceptions) and per roll-up row (24 a day per endpoint).
disk=$(disk_bytes)
read -r R1 N1 U1 <<<"$disk"
checks_rec=$(jq .rows_total <<<"$stats")
rollup_rows=$(bsql -c "SELECT count(*) FROM public.check_rollups_hourly")
disk=$(jq -n --argjson r0 "$R0" --argjson n0 "$N0" --argjson u0 "$U0" --argjson r1 "$R1" \
    --argjson n1 "$N1" --argjson u1 "$U1" --argjson n "$checks_rec" --argjson st "$stats" \
    --argjson urows "$rollup_rows" '
    def r1: . * 10 | round / 10;
    ($r1 - $r0) as $rb | ($n1 - $n0) as $nb | ($u1 - $u0) as $ub |
    (($rb + $nb + $ub) / ([$n, 1] | max)) as $per |
    ([$st.raw_rows, 1] | max) as $raw | ([$st.runs, 1] | max) as $runs |
    (($nb - 28 * $st.packed_checks) / $runs) as $run_row |
    ($rb / $raw) as $raw_row | ($ub / ([$urows, 1] | max)) as $roll_row |
    ($st.raw_rows / ([$n, 1] | max)) as $xfrac |
    (100000 * 1440) as $cpd |
    ($cpd * (1 - $xfrac) * 28 + 100000 * 144 * $run_row + $cpd * $xfrac * $raw_row
     + 100000 * 24 * $roll_row) as $bpd |
    {checks_recorded: $n, results_bytes: $rb, runs_bytes: $nb, rollups_bytes: $ub,
     exception_rows: $st.raw_rows, runs: $st.runs, packed_checks: $st.packed_checks,
     rollup_rows: $urows, bytes_per_exception_row: ($raw_row | r1),
     bytes_per_run_row_beyond_entries: ($run_row | r1), bytes_per_rollup_row: ($roll_row | r1),
     empty_tables_bytes_before: ($r0 + $n0 + $u0), bytes_per_check: ($per | r1),
     projection_100k_at_60s: {checks_per_day: $cpd, bytes_per_check: ($bpd / $cpd | r1),
       gb_7_days: ($bpd * 7 / 1e8 | round / 10),
       gb_90_days: ($bpd * 90 / 1e8 | round / 10)}}')
recorded=$(jq .jobs_recorded <<<"$stats")
dead=$(jq .dead_letters <<<"$stats")
# Still queued is not lost: jobs in SW_JOBS and results in SW_RESULTS not yet recorded (the
# target answers 200, so a job has one result; with retries this would over-count queued ones).
LOST=$((PUBLISHED - recorded - dead - JOBS_LEFT - JOBS_LEFT_ACK - RES_LEFT - RES_LEFT_ACK))
CHECKS_S=$(jq --arg s "$RUN_S" '.results_in_window / ($s|tonumber) | . * 10 | round / 10' <<<"$stats")
DUPS=$(jq '.dup_job_attempt + .dup_ok_jobs' <<<"$stats")
OFFERED=$(awk -v n="$N" -v s="$INTERVAL" 'BEGIN{printf "%.1f", n/s}')

rss_json=$(for a in "${!RSS_LAST[@]}"; do printf '%s %s %s %s\n' "$a" "${RSS_FIRST[$a]:-${RSS_LAST[$a]}}" "${RSS_LAST[$a]}" "${RSS_PEAK[$a]}"; done |
    jq -R -s 'split("\n") | map(select(length > 0) | split(" ") | {(.[0]): {at_1_min: (.[1]|tonumber), at_end: (.[2]|tonumber), max: (.[3]|tonumber)}}) | add // {}')
result=$(jq -n --argjson stats "$stats" --argjson cpu "$CPU" --argjson disk "$disk" --argjson tls "$TLS" --arg tlskey "$TLS_KEY" --argjson machine "$(machine_json)" \
    --arg at "$(date -u +%FT%TZ)" --arg cmd "ops/sw bench pipeline --endpoints $N --interval $INTERVAL --minutes $MINUTES$( ((TLS)) && echo " --tls")$( ((PROBERS > 1)) && echo " --probers $PROBERS")$( ((SCHEDULERS > 1)) && echo " --schedulers $SCHEDULERS")$( ((RECORDERS > 1)) && echo " --recorders $RECORDERS")$( ((TLS)) && [ "$TLS_KEY" != rsa ] && echo " --tls-key $TLS_KEY")" --argjson probers "$PROBERS" --argjson schedulers "$SCHEDULERS" --argjson recorders "$RECORDERS" \
    --argjson n "$N" --argjson iv "$INTERVAL" --argjson run "$RUN_S" --argjson offered "$OFFERED" \
    --argjson checks "$CHECKS_S" --argjson published "$PUBLISHED" --argjson lost "$LOST" --argjson dups "$DUPS" \
    --argjson backlog "$BACKLOG" --argjson drained "$DRAINED" --argjson drain_s "$DRAIN_TOOK" \
    --argjson jp "$JOBS_PEND" --argjson ja "$JOBS_ACK" --argjson rp "$RES_PEND" --argjson ra "$RES_ACK" \
    --argjson jl "$((JOBS_LEFT + JOBS_LEFT_ACK))" --argjson rl "$((RES_LEFT + RES_LEFT_ACK))" \
    --argjson rss "$RSS_MAX" --argjson hwm "$RSS_HWM" --argjson rssall "$rss_json" \
    --argjson crashed "$crashed_json" --arg la0 "$LA_START" --arg la1 "$LA_END" --arg nr "${NGINX_RATE:-0}" --arg tr "${TARGETS_RATE:-0}" \
    '{bench: "pipeline", at: $at, command: $cmd, endpoints: $n, interval_s: $iv, run_s: $run,
      probers: $probers, schedulers: $schedulers, recorders: $recorders,
      target_ratio: (if ($nr|tonumber) > 0 then ($checks / ($nr|tonumber) * 1000 | round / 1000) else null end), offered_checks_per_s: $offered, checks_per_s: $checks,
      lateness_ms: $stats.lateness_ms, jobs_published: $published, results_lost: $lost,
      duplicate_rows: $dups, dead_letters: $stats.dead_letters,
      due_not_scheduled_at_end: $backlog,
      jetstream_pending_at_end: {jobs: $jp, jobs_unacked: $ja, results: $rp, results_unacked: $ra},
      drained: $drained, drain_s: $drain_s, left_after_drain: {jobs: $jl, results: $rl},
      actors_died_after_s: $crashed,
      prober_rss_kb: {max_sampled: $rss, peak_vmhwm: $hwm}, actor_rss_kb: $rssall,
      settings: {SW_PROBE_CONCURRENCY: (env.SW_PROBE_CONCURRENCY // "256 (default)"),
                 SW_SCHED_BATCH: (env.SW_SCHED_BATCH // "500 (default)"),
                 SW_SCHED_TICK_MS: (env.SW_SCHED_TICK_MS // "200 (default)"),
                 SW_RECORDER_BATCH: (env.SW_RECORDER_BATCH // "500 (default)"),
                 SW_PG_OPTIONS: env.SW_PG_OPTIONS, target: (if $tls == 1 then "nginx 1 worker, 127.0.0.1, HTTPS (\(if $tlskey == "ecdsa" then "ECDSA P-256" else "RSA 2048" end), local CA via SW_PROBE_CA_FILE), new connection + full handshake per check" else "nginx 1 worker, 127.0.0.1, new connection per check" end),
                 seeding: "1 tenant via API sign-up + mail verification; endpoints + public.schedule by SQL"},
      target_rates_req_per_s: {nginx: ($nr|tonumber), targets_py: ($tr|tonumber)},
      budget: {checks_per_s_min: 4000, lateness_p99_ms_max_at_100k: 1000, lost: 0, duplicates: 0},
      disk: $disk, tls: ($tls == 1), cpu: $cpu, loadavg_start: $la0, loadavg_end: $la1, machine: $machine, db: $stats}')
f=$(write_result "pipeline-$N$( ((TLS)) && echo "-tls-$TLS_KEY")$( ((PROBERS > 1 || SCHEDULERS > 1 || RECORDERS > 1)) && echo "-p$PROBERS-s$SCHEDULERS-r$RECORDERS")" "$result")

cat >&2 <<REPORT

================ pipeline: $N $([ "$TLS" = 1 ] && echo "HTTPS ")endpoints every ${INTERVAL}s for ${MINUTES} min ($PROBERS prober(s), $SCHEDULERS scheduler(s), $RECORDERS recorder(s)) ================
  offered            $OFFERED checks/s
  checks/s           $CHECKS_S            (budget >= 4000 sustained$([ "$TLS" = 1 ] && echo "; HTTPS >= 1000"))
  vs the target      $(awk -v c="$CHECKS_S" -v t="${NGINX_RATE:-0}" 'BEGIN { if (t > 0) printf "%.0f%% of what the target alone serves with a new connection each (%s req/s, wrk)", 100 * c / t, t; else print "?" }')
  lateness p50/p99   $(jq -r '"\(.lateness_ms.p50) / \(.lateness_ms.p99) ms (max \(.lateness_ms.max))"' <<<"$stats")   (budget p99 <= 1000 ms at 100k)
  jobs published     $PUBLISHED   recorded $recorded   dead-lettered $dead
  results lost       $LOST          (must be 0; still queued when the streams stopped draining: $((JOBS_LEFT + JOBS_LEFT_ACK)) jobs, $((RES_LEFT + RES_LEFT_ACK)) results)
  actors died        $(jq -c . <<<"$crashed_json")   (seconds into the run)
  duplicate rows     $DUPS          (must be 0)
  failed attempts    $(jq -r '"\(.retried_rows) retries; errors \(.errors)"' <<<"$stats")
  due, unscheduled   $BACKLOG at the end (the scheduler's backlog)
  JetStream at end   jobs $JOBS_PEND pending + $JOBS_ACK unacked, results $RES_PEND + $RES_ACK; drained: $DRAINED in ${DRAIN_TOOK}s
  prober RSS         max $((RSS_MAX / 1024)) MB sampled, VmHWM $((RSS_HWM / 1024)) MB
  CPU (cores)        $(jq -r '[to_entries[] | select(.value.cpu_s > 0.5) | "\(.key) \(.value.cores)"] | join(", ")' <<<"$CPU")
  CPU µs per check   $(jq -r '[to_entries[] | select(.value.cpu_s > 0.5) | "\(.key) \(.value.us_per_request // "?")"] | join(", ")' <<<"$CPU")   ($([ "$TLS" = 1 ] && echo "HTTPS, a full handshake each" || echo "plain HTTP"))
  disk per check     $(jq -r '"\(.bytes_per_check) bytes (exceptions \(.results_bytes) in \(.exception_rows) rows, runs \(.runs_bytes) in \(.runs) rows holding \(.packed_checks) checks, roll-ups \(.rollups_bytes) in \(.rollup_rows) rows; indexes included; over \(.checks_recorded) checks)"' <<<"$disk")   (budget <= 100)
  disk, 100k at 60 s $(jq -r '"\(.projection_100k_at_60s.bytes_per_check) bytes/check: \(.projection_100k_at_60s.gb_7_days) GB kept 7 days, \(.projection_100k_at_60s.gb_90_days) GB kept 90 days (\(.projection_100k_at_60s.checks_per_day) checks/day; run row \(.bytes_per_run_row_beyond_entries) B + 28 B/check, roll-up row \(.bytes_per_rollup_row) B)"' <<<"$disk")
  actor RSS (MB)     $(for a in $(printf '%s\n' "${!RSS_LAST[@]}" | sort); do printf '%s %s→%s (max %s)  ' "$a" "$(( ${RSS_FIRST[$a]:-${RSS_LAST[$a]}} / 1024 ))" "$(( RSS_LAST[$a] / 1024 ))" "$(( RSS_PEAK[$a] / 1024 ))"; done)  (at 1 min → at the end)
  load average       $LA_START at start, $LA_END at end
  results            ${f#"$BENCH_REPO"/}
REPORT
[ "$LOST" = 0 ] && [ "$DUPS" = 0 ] && [ "$crashed_json" = '{}' ] ||
    { bsay "VIOLATION: lost $LOST, duplicates $DUPS, died: $crashed_json"; exit 1; }
