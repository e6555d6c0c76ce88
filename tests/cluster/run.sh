#!/usr/bin/env bash
# tests/cluster/run.sh — losing a NATS node, run by `ops/sw test-cluster` on a fresh instance
# (var/cluster) whose NATS is a 3-node cluster (SW_NATS_CLUSTER=3: nats1..nats3, every
# stream and consumer R3, NATS_URL listing all three nodes). Issue 8, part 4.
#
# During steady probing — CLUSTER_ENDPOINTS (20) endpoints on targets.py /ok, each made due
# again every CLUSTER_FORCE_S (3) s by an UPDATE of public.schedule (the CHECK keeps
# interval_seconds >= 30), and only once the scheduler has claimed its previous due time, so
# every due time forced is one job the scheduler publishes — it:
#   1. finds the leader of stream SW_JOBS (/jsz of the nodes' monitor ports)
#   2. kill -9s that node, keeps probing CLUSTER_OUTAGE_S (20) s, measuring how long until a
#      new leader is elected and until a job claimed after the kill has its result stored
#   3. starts the node again (ops/sw actor start natsN) and waits until it has caught up
#   4. stops forcing, lets every job drain, and checks:
#      - every forced due time has exactly one successful row in public.check_history
#        (no job lost, none checked twice), no (job_id, attempt) twice, no row for a due time
#        that was never forced, no dead letter
#      - every actor and the edge still run with the pid they had before the kill (none
#        needed a restart), the two other nodes too
#      - GET /health/ready/ answers 200 again, and every node's /healthz is 200
# Before any of it: every node's routes are TLS with verification (/varz) and connected (/routez).
# Bounded: CLUSTER_MAX_S (150) in all, then it stops. Exits 1 on any violation.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../ops/bench/lib.sh"

N=${CLUSTER_ENDPOINTS:-20}
FORCE_S=${CLUSTER_FORCE_S:-3}
STEADY_S=${CLUSTER_STEADY_S:-10}
OUTAGE_S=${CLUSTER_OUTAGE_S:-20}
AFTER_S=${CLUSTER_AFTER_S:-8}
DRAIN_S=${CLUSTER_DRAIN_S:-45}   # > the 30 s ack wait: a job whose ack was lost comes back
MAX_S=${CLUSTER_MAX_S:-150}
NODES=${SW_NATS_CLUSTER:-1}
DIR=$SW_VAR/cluster
mkdir -p "$DIR"
START=$(date +%s.%N)
VIOLATIONS=()
violation() { VIOLATIONS+=("$*"); printf 'VIOLATION: %s\n' "$*" >&2; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
((NODES >= 3)) || bdie "SW_NATS_CLUSTER=$NODES: this test needs a NATS cluster (run it with 'ops/sw test-cluster')"

TARGETS_PID= FORCE_PID= READY_PID= WATCHDOG_PID=
cleanup() {
    local p
    rm -f "$DIR/forcing"
    for p in "$FORCE_PID" "$READY_PID" "$WATCHDOG_PID"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    [ -n "$TARGETS_PID" ] && kill -- "-$TARGETS_PID" 2>/dev/null
    return 0
}
trap cleanup EXIT
trap 'printf "cluster: out of time (CLUSTER_MAX_S=%s): stopping\n" "$MAX_S" >&2; exit 2' USR1
(sleep "$MAX_S" && kill -USR1 $$) &
WATCHDOG_PID=$!

# ---- the cluster, through the nodes' monitor ports --------------------------------------
mon_port() { echo $((SW_NATS_HTTP_PORT + $1 - 1)); }
mon() { curl -fsS --max-time 2 "http://127.0.0.1:$(mon_port "$1")$2" 2>/dev/null; }
node_of() { echo "${1##*-n}"; }   # statuswatch-n2 -> 2
# jsz_detail NODE: SW_JOBS/SW_RESULTS as that node sees them (streams with consumers).
jsz_detail() { mon "$1" '/jsz?accounts=true&streams=true&consumers=true'; }
# stream_leader STREAM [SKIP]: the leader's server name as any live node (not SKIP) reports it.
stream_leader() {
    local n l
    for ((n = 1; n <= NODES; n++)); do
        [ "$n" = "${2:-}" ] && continue
        l=$(jsz_detail "$n" | jq -r --arg s "$1" \
            '[.account_details[]?.stream_detail[]? | select(.name == $s) | .cluster.leader // empty][0] // empty') || true
        [ -n "$l" ] && { echo "$l"; return 0; }
    done
    return 1
}
consumer_leader() {   # STREAM CONSUMER
    local n l
    for ((n = 1; n <= NODES; n++)); do
        l=$(jsz_detail "$n" | jq -r --arg s "$1" --arg c "$2" '[.account_details[]?.stream_detail[]?
            | select(.name == $s) | .consumer_detail[]? | select(.name == $c) | .cluster.leader // empty][0] // empty') || true
        [ -n "$l" ] && { echo "$l"; return 0; }
    done
    return 1
}
# consumer_state STREAM CONSUMER: "pending ack_pending redelivered" as its leader reports it.
consumer_state() {
    local n out
    for ((n = 1; n <= NODES; n++)); do
        out=$(jsz_detail "$n" | jq -r --arg s "$1" --arg c "$2" --arg me "statuswatch-n$n" '[.account_details[]?.stream_detail[]?
            | select(.name == $s) | .consumer_detail[]? | select(.name == $c and .cluster.leader == $me)][0]
            | if . == null then empty else "\(.num_pending // 0) \(.num_ack_pending // 0) \(.num_redelivered // 0)" end') || true
        [ -n "$out" ] && { echo "$out"; return 0; }
    done
    echo '-1 -1 -1'   # no leader answering: unknown, never "drained"
}
# Client connections on a node: "name(user)" list.
node_clients() {
    mon "$1" '/connz?auth=true&limit=1024' | jq -r '[.connections[]? | (.authorized_user // .name // "?")] | sort | join(" ")' || true
}
ready_code() { curl -s -o /dev/null --max-time 3 -w '%{http_code}' "$BASE_URL/health/ready/" || true; }

# ---- set-up -------------------------------------------------------------------------------
bsay "cluster of $NODES nodes; NATS_URL=$NATS_URL"
for ((n = 1; n <= NODES; n++)); do
    mon "$n" /healthz >/dev/null || bdie "node $n (monitor :$(mon_port "$n")) is not healthy"
done
# The routes between the nodes are TLS with both sides verified (ops/nats/cluster.conf.tmpl),
# and every node is connected to the others over them.
for ((n = 1; n <= NODES; n++)); do
    tls=$(mon "$n" /varz | jq -r '"\(.cluster.tls_required // false) \(.cluster.tls_verify // false)"')
    [ "$tls" = "true true" ] || violation "node $n: cluster routes are not TLS with verification (tls_required/tls_verify: $tls)"
    routes=$(mon "$n" /routez | jq -r '.num_routes // 0')
    ((routes >= NODES - 1)) || violation "node $n has $routes routes (expected $((NODES - 1)) over TLS)"
done
SRV_REPLICAS=$(jsz_detail 1 | jq -r '[.account_details[]?.stream_detail[]? | select(.name == "SW_JOBS") | .config.num_replicas // (.cluster.replicas | length + 1)][0] // 0')
[ "$SRV_REPLICAS" = 3 ] || violation "SW_JOBS has $SRV_REPLICAS replicas (expected 3: SW_JS_REPLICAS of sw-migrate)"

setsid python3 "$BENCH_REPO/tests/fakes/targets.py" --host 127.0.0.1 --port "$SW_BENCH_TARGET_PORT" \
    --tls-port "$SW_BENCH_TARGET_TLS_PORT" >"$DIR/targets.out" 2>&1 </dev/null &
TARGETS_PID=$!
for ((i = 0; i < 100; i++)); do grep -q READY "$DIR/targets.out" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$DIR/targets.out" || bdie "targets.py did not start"
read -r TENANT EMAIL < <(signup "Cluster Co")
bsql -c "INSERT INTO public.subscriptions (tenant_id, plan) VALUES ('$TENANT', 'pro') ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan" >/dev/null
bsay "seeding $N endpoints (SQL) on http://127.0.0.1:$SW_BENCH_TARGET_PORT/ok/<i>, due now and then every ${FORCE_S}s"
bsql <<SQL >/dev/null
BEGIN;
SET LOCAL search_path TO "$TENANT", public;
CREATE TABLE public.cluster_eps AS SELECT gen_random_uuid() AS endpoint_id, g FROM generate_series(1, $N) g;
INSERT INTO endpoints (id, name, url, interval_seconds, timeout_seconds, regions)
    SELECT endpoint_id, 'cluster ' || g, 'http://127.0.0.1:$SW_BENCH_TARGET_PORT/ok/' || g, 30, 5, '{local}' FROM public.cluster_eps;
-- Every due time the test makes: one job each, once the scheduler claims it.
CREATE TABLE public.cluster_forced (endpoint_id uuid, due_at timestamptz, PRIMARY KEY (endpoint_id, due_at));
INSERT INTO public.cluster_forced SELECT endpoint_id, date_trunc('second', now()) FROM public.cluster_eps;
INSERT INTO public.schedule (endpoint_id, tenant_id, interval_seconds, regions, next_due_at, url, timeout_seconds)
    SELECT endpoint_id, '$TENANT', 30, '{local}', date_trunc('second', now()),
           'http://127.0.0.1:$SW_BENCH_TARGET_PORT/ok/' || g, 5 FROM public.cluster_eps;
COMMIT;
SQL

# The forcing loop: a row whose last due time the scheduler has claimed (next_due_at moved to
# the future) is made due again now; a row still due is left alone, so no forced due time is
# ever overwritten before it became a job.
touch "$DIR/forcing"
(
    while [ -e "$DIR/forcing" ]; do
        sleep "$FORCE_S"
        [ -e "$DIR/forcing" ] || break
        bsql -c "WITH u AS (UPDATE public.schedule SET next_due_at = date_trunc('second', now())
                            WHERE endpoint_id IN (SELECT endpoint_id FROM public.cluster_eps) AND next_due_at > now()
                            RETURNING endpoint_id, next_due_at),
                      i AS (INSERT INTO public.cluster_forced SELECT * FROM u ON CONFLICT DO NOTHING RETURNING 1)
                 SELECT count(*) FROM i" >>"$DIR/forced.log" 2>&1 || true
    done
) &
FORCE_PID=$!

# /health/ready/ every 0.5 s: "epoch phase code".
echo steady >"$DIR/phase"
(
    while :; do
        printf '%s %s %s\n' "$(date +%s)" "$(cat "$DIR/phase")" "$(ready_code)" >>"$DIR/ready.log"
        sleep 0.5
    done
) &
READY_PID=$!

declare -A PID_BEFORE=()
for f in "$SW_VAR"/run/*.pid; do
    name=$(basename "$f" .pid)
    case $name in up | postgres | smtp | stripe | nats) continue ;; esac
    PID_BEFORE[$name]=$(cat "$f")
done

sleep "$STEADY_S"
STEADY_ROWS=$(bsql -c "SELECT count(*) FROM public.check_history WHERE endpoint_id IN (SELECT endpoint_id FROM public.cluster_eps)")
((STEADY_ROWS > 0)) || violation "no check results after ${STEADY_S}s of steady probing (before any kill)"
bsay "steady: $STEADY_ROWS results stored in ${STEADY_S}s (load $(loadavg))"

# ---- kill the SW_JOBS leader ----------------------------------------------------------------
LEADER=$(stream_leader SW_JOBS) || bdie "no node reports a leader for SW_JOBS"
K=$(node_of "$LEADER")
[[ $K =~ ^[1-9]$ ]] && ((K <= NODES)) || bdie "cannot tell which node '$LEADER' is"
CLEADER=$(consumer_leader SW_JOBS probers-local || echo '?')
RLEADER=$(stream_leader SW_RESULTS || echo '?')
CLIENTS=$(node_clients "$K")
KPID=$(pid_of "nats$K")
bsay "SW_JOBS leader: $LEADER (nats$K, pid $KPID); probers-local leader $CLEADER; SW_RESULTS leader $RLEADER"
bsay "clients on nats$K: ${CLIENTS:-none}"
echo outage >"$DIR/phase"
T_KILL=$(date +%s.%N)
T_KILL_SQL=$(date -u -d "@${T_KILL%.*}" '+%F %T+00')
kill -KILL "$KPID"
bsay "kill -9 nats$K (pid $KPID) at t+$(since "$START") s"

NEW_LEADER= LEADER_S= RESUMED_S=
while awk -v a="$T_KILL" -v b="$(date +%s.%N)" -v m="$OUTAGE_S" 'BEGIN { exit !(b - a < m) }'; do
    if [ -z "$LEADER_S" ]; then
        l=$(stream_leader SW_JOBS "$K" || true)
        if [ -n "$l" ] && [ "$l" != "$LEADER" ]; then NEW_LEADER=$l LEADER_S=$(since "$T_KILL"); fi
    fi
    if [ -z "$RESUMED_S" ]; then
        # A result stored for a job the scheduler claimed after the kill: the whole path works.
        r=$(bsql -c "SELECT count(*) FROM public.check_history WHERE due_at > '$T_KILL_SQL'
                     AND endpoint_id IN (SELECT endpoint_id FROM public.cluster_eps)" 2>/dev/null || echo 0)
        if [ "${r:-0}" -gt 0 ]; then RESUMED_S=$(since "$T_KILL"); fi
    fi
    sleep 0.25
done
[ -n "$LEADER_S" ] || violation "no new SW_JOBS leader within ${OUTAGE_S}s of killing $LEADER"
[ -n "$RESUMED_S" ] || violation "no job claimed after the kill had a stored result within ${OUTAGE_S}s"
bsay "new SW_JOBS leader ${NEW_LEADER:-none} after ${LEADER_S:-never} s; probing resumed after ${RESUMED_S:-never} s"

# ---- bring the node back -------------------------------------------------------------------
echo rejoin >"$DIR/phase"
T_RESTART=$(date +%s.%N)
"$SW_OPS" actor start "nats$K" >>"$DIR/ops.log" 2>&1 || violation "ops/sw actor start nats$K failed (see $DIR/ops.log)"
REJOIN_S=
for ((i = 0; i < 120; i++)); do
    if mon "$K" /healthz >/dev/null; then REJOIN_S=$(since "$T_RESTART"); break; fi
    sleep 0.25
done
[ -n "$REJOIN_S" ] || violation "nats$K did not report healthy (/healthz: caught up with the cluster) within 30 s of its restart"
bsay "nats$K restarted (pid $(pid_of "nats$K")), healthy after ${REJOIN_S:-never} s"
sleep "$AFTER_S"

# ---- drain ---------------------------------------------------------------------------------
echo drain >"$DIR/phase"
rm -f "$DIR/forcing"
wait "$FORCE_PID" 2>/dev/null || true
FORCE_PID=
T_DRAIN=$(date +%s.%N)
DRAINED=false
for ((i = 0; i < DRAIN_S * 2; i++)); do
    left=$(bsql -c "SELECT (SELECT count(*) FROM public.schedule WHERE next_due_at <= now()
                              AND endpoint_id IN (SELECT endpoint_id FROM public.cluster_eps))
                         + (SELECT count(*) FROM public.cluster_forced f WHERE NOT EXISTS (SELECT 1 FROM public.check_history c
                              WHERE c.endpoint_id = f.endpoint_id AND c.due_at = f.due_at AND c.ok))" 2>/dev/null || echo -1)
    read -r a b _ < <(consumer_state SW_JOBS probers-local)
    read -r c d _ < <(consumer_state SW_RESULTS recorder)
    if [ "$left" = 0 ] && [ "$((a + b + c + d))" = 0 ]; then DRAINED=true; break; fi
    sleep 0.5
done
DRAIN_TOOK=$(since "$T_DRAIN")
[ "$DRAINED" = true ] || violation "not drained within ${DRAIN_S}s (forced due times unclaimed or without a result: $left; jobs $a+$b, results $c+$d pending+unacked)"
sleep 1   # a late duplicate would land now

# ---- the books -----------------------------------------------------------------------------
books=$(bsql <<SQL
WITH ours AS (SELECT c.* FROM public.check_history c JOIN public.cluster_eps e USING (endpoint_id)),
per_due AS (SELECT endpoint_id, due_at, count(*) FILTER (WHERE ok) AS oks, count(*) AS n FROM ours GROUP BY 1, 2)
SELECT json_build_object(
  'jobs_forced', (SELECT count(*) FROM public.cluster_forced),
  'jobs_after_kill', (SELECT count(*) FROM public.cluster_forced WHERE due_at > '$T_KILL_SQL'),
  'result_rows', (SELECT count(*) FROM ours),
  'lost', (SELECT count(*) FROM public.cluster_forced f WHERE NOT EXISTS
        (SELECT 1 FROM per_due p WHERE p.endpoint_id = f.endpoint_id AND p.due_at = f.due_at AND p.oks >= 1)),
  'checked_twice', (SELECT count(*) FROM per_due WHERE oks > 1),
  'dup_job_attempt', (SELECT count(*) - count(DISTINCT (job_id, attempt)) FROM ours),
  'unexpected', (SELECT count(*) FROM per_due p WHERE NOT EXISTS
        (SELECT 1 FROM public.cluster_forced f WHERE f.endpoint_id = p.endpoint_id AND f.due_at = p.due_at)),
  'failed_attempts', (SELECT count(*) FROM ours WHERE NOT ok),
  'failed_errors', (SELECT coalesce(json_object_agg(e, n), '{}') FROM (SELECT coalesce(error, 'http ' || http_status) e,
        count(*) n FROM ours WHERE NOT ok GROUP BY 1) x),
  'retried_jobs', (SELECT count(DISTINCT job_id) FROM ours WHERE attempt > 1),
  'dead_letters', (SELECT count(*) FROM public.dead_letters WHERE endpoint_id IN (SELECT endpoint_id FROM public.cluster_eps)),
  'lateness_p99_ms', (SELECT round((percentile_cont(0.99) WITHIN GROUP
        (ORDER BY extract(epoch FROM checked_at - due_at) * 1000))::numeric) FROM ours WHERE attempt = 1),
  'lateness_max_ms', (SELECT round(max(extract(epoch FROM checked_at - due_at) * 1000)::numeric) FROM ours WHERE attempt = 1)
)
SQL
)
for k in lost checked_twice dup_job_attempt unexpected dead_letters; do
    v=$(jq ".$k" <<<"$books")
    [ "$v" = 0 ] || violation "$k = $v (must be 0)"
done
[ "$(jq .jobs_after_kill <<<"$books")" -gt 0 ] || violation "no job was due after the kill: the test proved nothing"

# ---- processes, health ---------------------------------------------------------------------
SAME=0 CHANGED=()
for name in "${!PID_BEFORE[@]}"; do
    [ "$name" = "nats$K" ] && continue
    now=$(pid_of "$name")
    if [ "$now" = "${PID_BEFORE[$name]}" ] && [ -d "/proc/$now" ]; then
        SAME=$((SAME + 1))
    else
        CHANGED+=("$name (${PID_BEFORE[$name]} -> ${now:-gone})")
    fi
done
((${#CHANGED[@]} == 0)) || violation "processes not running with their pid from before the kill: ${CHANGED[*]}"
echo final >"$DIR/phase"
READY_FINAL= READY_S=
T_READY=$(date +%s.%N)
for ((i = 0; i < 40; i++)); do
    READY_FINAL=$(ready_code)
    if [ "$READY_FINAL" = 200 ]; then READY_S=$(since "$T_READY"); break; fi
    sleep 0.5
done
[ "$READY_FINAL" = 200 ] || violation "GET /health/ready/ answers $READY_FINAL at the end (expected 200): $(curl -s --max-time 3 "$BASE_URL/health/ready/")"
for ((n = 1; n <= NODES; n++)); do
    mon "$n" /healthz >/dev/null || violation "node $n: /healthz is not 200 at the end"
done
FINAL_LEADER=$(stream_leader SW_JOBS || echo none)
kill "$READY_PID" 2>/dev/null || true
READY_PID=
ready_json=$(awk '{ n[$2 " " $3]++ } END { for (k in n) print k, n[k] }' "$DIR/ready.log" | jq -R -s '
    split("\n") | map(select(length > 0) | split(" ")) | reduce .[] as $x ({}; .[$x[0]] += {($x[1]): ($x[2] | tonumber)})')
reconnects=$(grep -l -i 'reconnected' "$SW_VAR"/log/*.log 2>/dev/null | xargs -r -n1 basename | sed 's/\.log$//' | sort | tr '\n' ' ' || true)

viol_json=$(printf '%s\n' "${VIOLATIONS[@]+"${VIOLATIONS[@]}"}" | jq -R -s 'split("\n") | map(select(length > 0))')
TOOK=$(since "$START")
result=$(jq -n --argjson books "$books" --argjson viol "$viol_json" --argjson ready "$ready_json" \
    --arg leader "$LEADER" --arg node "nats$K" --arg cleader "$CLEADER" --arg rleader "$RLEADER" \
    --arg clients "$CLIENTS" --arg new "${NEW_LEADER:-}" --arg final "$FINAL_LEADER" \
    --arg leader_s "${LEADER_S:-}" --arg resumed_s "${RESUMED_S:-}" --arg rejoin_s "${REJOIN_S:-}" \
    --arg drain_s "$DRAIN_TOOK" --arg took "$TOOK" --arg same "$SAME" --arg reconnects "$reconnects" \
    --arg at "$(date -u +%FT%TZ)" --arg la "$(loadavg)" --arg url "$NATS_URL" \
    '{suite: "cluster", at: $at, command: "ops/sw test-cluster", took_s: ($took | tonumber),
      ok: ($viol | length == 0), violations: $viol, nats_url: $url,
      killed: {node: $node, server: $leader, was: "SW_JOBS stream leader", probers_local_leader: $cleader,
               sw_results_leader: $rleader, clients: ($clients | split(" ") | map(select(length > 0)))},
      new_sw_jobs_leader: $new, new_leader_s: ($leader_s | tonumber? // null),
      probing_resumed_s: ($resumed_s | tonumber? // null), rejoined_healthy_s: ($rejoin_s | tonumber? // null),
      sw_jobs_leader_at_end: $final, drain_s: ($drain_s | tonumber), books: $books,
      processes_same_pid: ($same | tonumber), reconnected: ($reconnects | split(" ") | map(select(length > 0))),
      health_ready_by_phase: $ready, loadavg_end: $la}')
printf '%s\n' "$result" >"$DIR/result.json"

{
    printf '\n================== NATS cluster failover report (%s s) ==================\n' "$TOOK"
    printf 'cluster: %s nodes, SW_JOBS R3; NATS_URL=%s\n' "$NODES" "$NATS_URL"
    printf 'killed:  kill -9 nats%s (%s), leader of SW_JOBS; probers-local leader was %s, SW_RESULTS leader %s\n' \
        "$K" "$LEADER" "$CLEADER" "$RLEADER"
    printf '         clients connected to it: %s\n' "${CLIENTS:-none}"
    printf 'recover: new SW_JOBS leader %s after %s s; first stored result of a job claimed after the kill: %s s\n' \
        "${NEW_LEADER:-none}" "${LEADER_S:-never}" "${RESUMED_S:-never}"
    printf '         nats%s restarted after %s s down, caught up (/healthz 200) %s s later; SW_JOBS leader now %s\n' \
        "$K" "$OUTAGE_S" "${REJOIN_S:-never}" "$FINAL_LEADER"
    printf 'jobs:    %s due times forced on %s endpoints (%s after the kill), %s result rows: lost %s, checked twice %s,\n' \
        "$(jq .jobs_forced <<<"$books")" "$N" "$(jq .jobs_after_kill <<<"$books")" "$(jq .result_rows <<<"$books")" \
        "$(jq .lost <<<"$books")" "$(jq .checked_twice <<<"$books")"
    printf '         (job_id, attempt) twice %s, unexpected %s, dead letters %s, failed attempts %s %s, retried jobs %s\n' \
        "$(jq .dup_job_attempt <<<"$books")" "$(jq .unexpected <<<"$books")" "$(jq .dead_letters <<<"$books")" \
        "$(jq .failed_attempts <<<"$books")" "$(jq -c .failed_errors <<<"$books")" "$(jq .retried_jobs <<<"$books")"
    printf '         lateness of first attempts: p99 %s ms, max %s ms; drained %s s after forcing stopped\n' \
        "$(jq .lateness_p99_ms <<<"$books")" "$(jq .lateness_max_ms <<<"$books")" "$DRAIN_TOOK"
    printf 'actors:  %s processes (actors, edge, the other nodes) with the same pid before and after; logged a reconnect: %s\n' \
        "$SAME" "${reconnects:-none}"
    printf 'ready:   /health/ready/ by phase %s; at the end %s (after %s s)\n' "$(jq -c . <<<"$ready_json")" "$READY_FINAL" "${READY_S:-never}"
    printf 'load average at the end: %s; result: %s\n' "$(loadavg)" "${DIR#"$BENCH_REPO"/}/result.json"
    if ((${#VIOLATIONS[@]})); then
        printf '%s VIOLATION(S):\n' "${#VIOLATIONS[@]}"; printf '  - %s\n' "${VIOLATIONS[@]}"
    else
        printf 'no violations\n'
    fi
} >&2
((${#VIOLATIONS[@]} == 0)) || exit 1
