#!/usr/bin/env bash
# Helpers shared by ops/bench/*.sh and tests/chaos/run.sh. They run inside `ops/sw bench …`
# / `ops/sw chaos`, which started a fresh instance and exported its settings (SW_VAR,
# SW_PG_PORT, SW_PG_PASSWORD, SW_HTTP_LISTEN, SW_MAIL_DIR, SW_NATS_HTTP_PORT, …).

BENCH_REPO=${SW_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BENCH_RESULTS=$BENCH_REPO/bench/results
BENCH_PASSWORD='Bench-Sturdy-Lamp-42x'
CLK_TCK=$(getconf CLK_TCK)
BASE_URL="http://$SW_HTTP_LISTEN"

bsay() { printf '==> %s\n' "$*" >&2; }
bdie() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# psql as sw on the instance's database: unaligned, tuples only.
bsql() {
    PGPASSWORD=$SW_PG_PASSWORD PGCONNECT_TIMEOUT=5 "$SW_PG_BIN/psql" -X -q -t -A -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$SW_PG_PORT" -U sw -d "$SW_PG_DB" "$@"
}

pid_of() { cat "$SW_VAR/run/$1.pid" 2>/dev/null || true; }

# CPU ticks (utime+stime) of a process and its threads; for postgres, the postmaster's
# own, its reaped children's (cutime+cstime) and its live children's.
cpu_ticks() {
    local pid=$1 total=0 stat f c
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || { echo 0; return; }
    stat=$(cat "/proc/$pid/stat"); stat=${stat##*) }
    read -r -a f <<<"$stat"          # f[0] is field 3 (state)
    total=$((f[11] + f[12]))
    if [ "${2:-}" = tree ]; then
        total=$((total + f[13] + f[14]))
        for c in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
            stat=$(cat "/proc/$c/stat" 2>/dev/null) || continue
            stat=${stat##*) }; read -r -a f <<<"$stat"
            total=$((total + f[11] + f[12]))
        done
    fi
    echo "$total"
}

# Processes whose CPU time the benches report.
BENCH_PROCS=(edge auth tenancy endpoints notify scheduler prober recorder deadletter billing nats postgres)

# cpu_snapshot → "name=ticks name=ticks …"
cpu_snapshot() {
    local n f out=() extra=()
    for f in "$SW_VAR"/run/*.[2-9].pid; do [ -e "$f" ] && extra+=("$(basename "$f" .pid)"); done
    for n in "${BENCH_PROCS[@]}" "${extra[@]+"${extra[@]}"}"; do
        if [ "$n" = postgres ]; then
            out+=("$n=$(cpu_ticks "$(head -n1 "$SW_PG_DATA/postmaster.pid" 2>/dev/null)" tree)")
        else
            out+=("$n=$(cpu_ticks "$(pid_of "$n")")")
        fi
    done
    echo "${out[*]}"
}

# cpu_delta "before" "after" SECONDS [COUNT] → JSON object {name: {"cpu_s":…, "cores":…}};
# with COUNT (requests, checks), also "us_per_request": CPU s / COUNT × 1e6 (µs per unit).
cpu_delta() {
    python3 - "$1" "$2" "$3" "$CLK_TCK" "${4:-0}" <<'PY'
import json, sys
b = dict(x.split("=") for x in sys.argv[1].split())
a = dict(x.split("=") for x in sys.argv[2].split())
secs, tck, count = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
out = {}
for k in a:
    d = (int(a[k]) - int(b.get(k, 0))) / tck
    out[k] = {"cpu_s": round(d, 2), "cores": round(d / secs, 3) if secs else None}
    if count > 0:
        out[k]["us_per_request"] = round(d / count * 1e6, 1)
print(json.dumps(out))
PY
}

# Peak and current RSS (kB) of a process.
rss_kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# signup ORG → prints "tenant_id email"; registers through the API, verifies with the
# link from the SMTP catcher's mail dir, exactly as a person would.
signup() {
    local org=$1 email tenant token i mail=
    email="bench-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')@example.test"
    local body try
    # Right after start an actor may still be subscribing: a few tries.
    for try in 1 2 3 4 5; do
        body=$(curl -sS --max-time 30 -X POST "$BASE_URL/api/auth/register/" \
            -H 'Content-Type: application/json' \
            -d "{\"organization_name\":\"$org\",\"email\":\"$email\",\"password\":\"$BENCH_PASSWORD\",\"password_confirm\":\"$BENCH_PASSWORD\"}" || true)
        tenant=$(jq -r '.tenant.id // empty' <<<"$body" 2>/dev/null || true)
        [ -n "$tenant" ] && break
        bsay "sign-up attempt $try: $body"
        sleep 1
    done
    [ -n "$tenant" ] || bdie "sign-up of $email failed: $body"
    for ((i = 0; i < 150; i++)); do
        mail=$(grep -l -F "To: <$email>" "$SW_MAIL_DIR"/*.eml 2>/dev/null | head -n1 || true)
        [ -n "$mail" ] && break
        sleep 0.1
    done
    [ -n "$mail" ] || bdie "no verification mail for $email in $SW_MAIL_DIR"
    token=$(grep -o '/verify-email?token=[^ "<>]*' "$mail" | head -n1 | tr -d '\r')
    token=${token#/verify-email?token=}
    curl -fsS --max-time 30 -o /dev/null -X POST "$BASE_URL/api/auth/verify-email/" \
        -H 'Content-Type: application/json' -d "{\"token\":\"$token\"}" || bdie "verification of $email failed"
    echo "$tenant $email"
}

# login EMAIL → access token
login() {
    curl -fsS --max-time 30 -X POST "$BASE_URL/api/auth/token/" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$BENCH_PASSWORD\"}" | jq -r .access
}

# JetStream consumer state from the monitoring port: "pending ack_pending" of STREAM/CONSUMER.
js_consumer() {
    curl -fsS --max-time 5 "http://127.0.0.1:$SW_NATS_HTTP_PORT/jsz?accounts=true&streams=true&consumers=true" |
        jq -r --arg s "$1" --arg c "$2" '[.account_details[]?.stream_detail[]? | select(.name == $s)
            | .consumer_detail[]? | select(.name == $c)][0] | "\(.num_pending // 0) \(.num_ack_pending // 0) \(.num_redelivered // 0)"' ||
        echo '-1 -1 -1'   # NATS not answering: unknown, never "drained"
}
# Last sequence of a stream (messages ever stored in it).
js_last_seq() {
    curl -fsS --max-time 5 "http://127.0.0.1:$SW_NATS_HTTP_PORT/jsz?accounts=true&streams=true" |
        jq -r --arg s "$1" '[.account_details[]?.stream_detail[]? | select(.name == $s)][0].state.last_seq // 0' ||
        echo -1
}

# Stores a result: write_result NAME JSON → bench/results/NAME-<utc>.json (path on stdout).
write_result() {
    local f
    mkdir -p "$BENCH_RESULTS"
    f=$BENCH_RESULTS/$1-$(date -u +%Y%m%dT%H%M%SZ).json
    printf '%s\n' "$2" | jq . >"$f"
    echo "$f"
}

# What the figures were measured on.
machine_json() {
    jq -n --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
        --arg cores "$(nproc)" --arg mem "$(awk '/MemTotal/ {print $2}' /proc/meminfo)" \
        --arg kernel "$(uname -r)" --arg commit "$(git -C "$BENCH_REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        --arg dirty "$(git -C "$BENCH_REPO" status --porcelain -- actors bus store http 2>/dev/null | wc -l)" \
        '{cpu: $cpu, cores: ($cores|tonumber), mem_kb: ($mem|tonumber), kernel: $kernel,
          commit: $commit, uncommitted_c_files: ($dirty|tonumber)}'
}
