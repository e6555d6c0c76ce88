#!/usr/bin/env bash
# `ops/sw bench api|pipeline --help`, `ops/sw chaos --help` and bad arguments, run the way a
# person types them: usage or a clear error, and nothing installed, built or started. Every
# program those commands would install, build or start with (apt-get, dpkg, cmake, nats-server,
# PostgreSQL's binaries, nginx, wrk, curl, openssl, npm) is replaced on PATH by a stub that
# writes its name to a log; the log must stay empty, and the instance folder and build folder
# (SW_VAR, SW_BUILD_DIR, pointed at a scratch directory) must not be created.
#   test_bench_args.sh REPO
set -u
REPO=${1:?usage: test_bench_args.sh REPO}
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/bin"
for p in apt-get dpkg cmake nats-server initdb pg_ctl postgres psql nginx wrk curl openssl npm; do
    printf '#!/bin/sh\necho "%s $*" >>"%s/started.log"\nexit 1\n' "$p" "$SCRATCH" >"$SCRATCH/bin/$p"
    chmod +x "$SCRATCH/bin/$p"
done
: >"$SCRATCH/started.log"
fail=0

# run EXPECTED_RC PATTERN [VAR=VALUE...] -- ARGS...: ops/sw ARGS must exit EXPECTED_RC with
# PATTERN (grep -E) in its output, having started nothing.
run() {
    local want=$1 pattern=$2 envs=() out rc
    shift 2
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    out=$(env -i HOME="$SCRATCH" PATH="$SCRATCH/bin:/usr/bin:/bin" SW_VAR="$SCRATCH/var" \
        SW_BUILD_DIR="$SCRATCH/build" SW_PG_BIN="$SCRATCH/bin" "${envs[@]+"${envs[@]}"}" \
        timeout 60 "$REPO/ops/sw" "$@" 2>&1)
    rc=$?
    local what="${envs[*]+${envs[*]} }ops/sw $*"
    if [ "$rc" != "$want" ]; then
        echo "FAIL $what: exit $rc, expected $want; output: $out"; fail=1
    elif ! grep -qE -- "$pattern" <<<"$out"; then
        echo "FAIL $what: output lacks /$pattern/: $out"; fail=1
    elif [ -s "$SCRATCH/started.log" ]; then
        echo "FAIL $what: ran $(tr '\n' ';' <"$SCRATCH/started.log")"; fail=1
    elif [ -e "$SCRATCH/var" ] || [ -e "$SCRATCH/build" ]; then
        echo "FAIL $what: created the instance or build folder"; fail=1
    else
        echo "ok   $what -> $rc"
    fi
    : >"$SCRATCH/started.log"
    rm -rf "$SCRATCH/var" "$SCRATCH/build"
}

run 0 'Usage: ops/sw bench api .*--tenants' -- bench api --help
run 0 'BENCH_SECONDS' -- bench api -h
run 0 'Usage: ops/sw bench pipeline' -- bench pipeline --help
run 0 '--tls' -- bench pipeline --endpoints 5 --help
run 0 'Usage: ops/sw chaos' -- chaos --help
run 0 'Usage: ops/sw bench api' -- bench --help
run 2 "unknown argument '--bogus'" -- bench api --bogus
run 2 "--tenants must be a whole number, not 'abc'" -- bench api --tenants abc
run 2 '--tenants must be between 1 and 5000, not 0' -- bench api --tenants 0
run 2 '--tenants needs a value' -- bench api --tenants
run 2 "unknown route 'nope'" -- bench api --routes list,nope
run 2 "--auth must be jwt, token or both, not 'nope'" -- bench api --auth nope
run 2 '--auth needs a value' -- bench api --auth
run 2 '--auth both works in the default mode only' -- bench api --auth both --tenants 5
run 2 '--auth token works in the default mode only' -- bench api --api-token --tenants 5
run 0 'Usage: ops/sw bench api' -- bench api --auth both --help
run 2 "BENCH_SECONDS must be a whole number, not '5s'" BENCH_SECONDS=5s -- bench api
run 2 'BENCH_CONNECTIONS must be between 1 and 1000' BENCH_CONNECTIONS=0 -- bench api
run 2 'BENCH_THREADS \(8\) must not exceed BENCH_CONNECTIONS \(4\)' BENCH_THREADS=8 BENCH_CONNECTIONS=4 -- bench api
run 2 "--endpoints must be a whole number, not '12x'" -- bench pipeline --endpoints 12x
run 2 '--interval must be between 30 and 86400, not 10' -- bench pipeline --interval 10
run 2 '--minutes must be above 0' -- bench pipeline --minutes 0
run 2 "--minutes must be a number, not 'two'" -- bench pipeline --minutes two
run 2 '--probers must be between 1 and 9' -- bench pipeline --probers 10
run 2 "unknown argument '--tsl'" -- bench pipeline --tsl
run 0 'Usage: ops/sw bench status' -- bench status --help
run 2 "unknown route 'nope'" -- bench status --routes summary,nope
run 2 'BENCH_CONNECTIONS must be between 1 and 1000' BENCH_CONNECTIONS=2000 -- bench status
run 0 'Usage: ops/sw bench heartbeats' -- bench heartbeats --help
run 2 '--monitors must be between 100 and 50000, not 5' -- bench heartbeats --monitors 5
run 2 "unknown argument '--pings'" -- bench heartbeats --pings
run 2 "unknown argument '--now'" -- chaos --now
run 2 'CHAOS_MAX_S must be between 30 and 3600, not 5' CHAOS_MAX_S=5 -- chaos
run 1 "unknown bench 'nope'" -- bench nope
exit "$fail"
