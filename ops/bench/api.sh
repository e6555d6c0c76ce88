#!/usr/bin/env bash
# ops/bench/api.sh — run by `ops/sw bench api` on a fresh instance (var/bench).
#
# Default (one tenant's view, the figures of issue 15): 3 verified organizations signed up
# through the REST API (register, the link from the caught mail, verify), made Pro by SQL
# (a 'pro' row in public.subscriptions, as the tests' it_set_plan: no Stripe round trip), 50
# endpoints each through POST; the reads use the first organization's token (from a real login).
#
# --tenants N (or BENCH_TENANTS): N organizations x 25 endpoints, requests spread over all of
# them. One is signed up through the API as above; the other N-1 are seeded BY SQL, because N
# sign-ups would cost N password hashes (~0.1 s of CPU each): per tenant, the rows sign-up
# writes (public.tenants, public.subscriptions plan 'pro', public.domains, public.user_directory), its schema (as
# sw_tenant_owner) with every schema/tenant/*.sql migration recorded in
# public.schema_migrations, an owner (verified,
# the first owner's password hash) and 25 endpoints (never scheduled: the scheduler is stopped
# during the runs). Tokens are MINTED, not logged in (N logins would be N password hashes): an
# access token per tenant owner, signed like sw_jwt_issue (bus/jwt.c) with the key derived
# from the instance's SECRET_KEY; the edge verifies them like any other (a token that failed
# would show as non-2xx errors; the first and last are checked with GET /api/auth/me/ first).
#
# wrk (BENCH_THREADS 2, BENCH_CONNECTIONS 64, BENCH_SECONDS 20 per route) drives, per route
# (--routes LIST picks some; ops/bench/wrk/rotate.lua rotates over the (token, endpoint)
# pairs, so consecutive requests go to different tenants in --tenants mode):
#   list      GET  /api/endpoints/            (a page of 20)
#   get       GET  /api/endpoints/{id}/
#   checks    GET  /api/endpoints/{id}/checks/
#   uptime    GET  /api/endpoints/{id}/uptime/
#   me        GET  /api/auth/me/
#   create    POST /api/endpoints/            (unique public-looking URLs; sandboxed, never fetched)
#   token     POST /api/auth/token/           (log in as the first owner; SW_THROTTLE_LOGIN raised)
# and prints req/s, p50, p99 and each process's CPU microseconds per request (CPU seconds
# from /proc/<pid>/stat over the run / requests x 1e6; PostgreSQL = postmaster + backends).
# The scheduler, prober and recorder are stopped during the runs: this measures the API.
set -euo pipefail
BENCH_PROG="ops/sw bench api"
. "$(dirname "${BASH_SOURCE[0]}")/args.sh"

ALL_ROUTES=list,get,checks,uptime,me,create,token
usage() {
    cat <<USAGE
Usage: ops/sw bench api [--tenants N] [--routes LIST]

A fresh instance in var/bench (ports SW_BENCH_PORT_BASE+1.., default 31101-31109), then wrk
on the REST API, one route after another; figures printed and written to bench/results/.

  --tenants N      N organizations x 25 endpoints (1 signed up through the API, N-1 seeded
                   by SQL, tokens minted), requests spread over all of them (1..5000;
                   default: 3 organizations x 50 endpoints through the API, reads as one)
  --auth MODE      how the requests authenticate: jwt (default: the access token of a
                   login), token (an API token: POST /api/tokens/, role owner, "Authorization:
                   Bearer swt_..."; the edge checks it in memory) or both (each route with the
                   JWT, then at once with the token, on the same instance, and the token's
                   figures as a % of the JWT's). token and both: default mode only, not with
                   --tenants; me and token are auth routes, which take no API token: they run
                   with the JWT only
  --api-token      the same as --auth token
  --routes LIST    comma-separated, default $ALL_ROUTES
                   (list get checks uptime me: GET reads; create: POST /api/endpoints/;
                   token: POST /api/auth/token/)
  -h, --help       this text (nothing is installed, built or started)

Settings (environment): BENCH_SECONDS 20 (1..600) per route, BENCH_CONNECTIONS 64 (1..1000),
BENCH_THREADS 2 (1..64, at most the connections), BENCH_TENANTS (as --tenants).
Prints per route: req/s, p50/p99 ms, errors, CPU µs per request of the edge, the actor
answering it, nats-server and PostgreSQL (every process in the JSON result).
USAGE
}

if wants_help "$@"; then usage; exit 0; fi
TENANTS=${BENCH_TENANTS:-} ROUTES=$ALL_ROUTES AUTH=jwt
while (($#)); do
    case $1 in
        --tenants) need_value "$@"; TENANTS=$2; shift 2 ;;
        --routes) need_value "$@"; ROUTES=$2; shift 2 ;;
        --auth) need_value "$@"; AUTH=$2; shift 2 ;;
        --api-token) AUTH=token; shift ;;
        *) usage_die "unknown argument '$1'" ;;
    esac
done
[ -z "$TENANTS" ] || check_int "--tenants" "$TENANTS" 1 5000
case $AUTH in jwt | token | both) ;; *) usage_die "--auth must be jwt, token or both, not '$AUTH'" ;; esac
[ "$AUTH" = jwt ] || [ -z "$TENANTS" ] || usage_die "--auth $AUTH works in the default mode only, not with --tenants"
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
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

PAIRS=$SW_VAR/bench/pairs.txt   # "token endpoint_id" per line, read by wrk/rotate.lua
mkdir -p "$SW_VAR/bench"
bsql -c "CREATE TABLE public.bench_seed (k int, tenant_id text, user_id uuid, endpoint_id uuid)" >/dev/null

# seed_api: the default, 3 organizations x 50 endpoints through the API.
seed_api() {
    local em tok i
    bsay "seeding 3 organizations with 50 endpoints each (through the API)"
    read -r TENANT EMAIL < <(signup "Bench Org 1")
    read -r _ EMAIL2 < <(signup "Bench Org 2")
    read -r _ EMAIL3 < <(signup "Bench Org 3")
    bsql -c "INSERT INTO public.subscriptions (tenant_id, plan) SELECT id, 'pro' FROM public.tenants ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan" >/dev/null
    for em in "$EMAIL" "$EMAIL2" "$EMAIL3"; do
        tok=$(login "$em")
        for ((i = 1; i <= 50; i++)); do
            printf '{"name":"seed %d","url":"http://93.185.%d.%d/seed/%d","interval_seconds":300}\n' \
                "$i" $((RANDOM % 200 + 1)) $((RANDOM % 200 + 1)) "$i"
        done | while IFS= read -r body; do
            curl -fsS --max-time 10 -o /dev/null -X POST "$BASE_URL/api/endpoints/" \
                -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$body" ||
                bdie "seeding an endpoint failed: $body"
        done
    done
    # The reads are one tenant's: its 50 endpoints.
    bsql -c "INSERT INTO public.bench_seed SELECT row_number() OVER (), '$TENANT', NULL, id FROM \"$TENANT\".endpoints" >/dev/null
}

# seed_sql N: one organization through the API, N-1 by SQL (see the header), 25 endpoints each.
seed_sql() {
    local n=$1 hash t0 b i k id uid f run
    bsay "seeding $n organizations x 25 endpoints (1 through the API, $((n - 1)) by SQL)"
    t0=$(date +%s)
    read -r TENANT EMAIL < <(signup "Bench Org 1")
    hash=$(bsql -c "SELECT password_hash FROM \"$TENANT\".users LIMIT 1")
    run=$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
    for ((b = 2; b <= n; b += 100)); do
        {
            echo "BEGIN;"
            for ((i = b; i < b + 100 && i <= n; i++)); do
                id=$(printf 't_bench%s%06d' "$run" "$i")
                uid=$(cat /proc/sys/kernel/random/uuid)
                printf "INSERT INTO public.tenants (id, name, slug, schema_name) VALUES ('%s', 'Bench Org %d', 'bench-%s-%d', '%s');\n" "$id" "$i" "$run" "$i" "$id"
                printf "INSERT INTO public.subscriptions (tenant_id, plan) VALUES ('%s', 'pro');\n" "$id"
                printf "INSERT INTO public.domains (host, tenant_id) VALUES ('bench-%s-%d.bench.test', '%s');\n" "$run" "$i" "$id"
                printf "INSERT INTO public.user_directory (email, tenant_id, user_id) VALUES ('bench-%s-%d@example.test', '%s', '%s');\n" "$run" "$i" "$id" "$uid"
                # As sign-up does (tenant_create): the schema and its tables belong to
                # sw_tenant_owner (schema/public/0006_actor_roles.sql), so the grants are alike.
                printf 'SET LOCAL ROLE sw_tenant_owner;\nCREATE SCHEMA "%s";\nSET LOCAL search_path TO "%s", public;\n' "$id" "$id"
                for f in "$BENCH_REPO"/schema/tenant/*.sql; do
                    cat "$f"
                    printf "\n;INSERT INTO public.schema_migrations (scope, name) VALUES ('%s', 'tenant/%s');\n" "$id" "$(basename "$f")"
                done
                printf "INSERT INTO users (id, email, password_hash, role, verified_at) VALUES ('%s', 'bench-%s-%d@example.test', '%s', 'owner', now());\n" "$uid" "$run" "$i" "$hash"
                printf "INSERT INTO endpoints (name, url, interval_seconds, timeout_seconds, regions) SELECT 'seed ' || g, 'http://93.185.' || (g %% 200 + 1) || '.%d/seed/' || g, 300, 5, '{local}' FROM generate_series(1, 25) g;\n" $((i % 250 + 1))
                printf "RESET ROLE;\nINSERT INTO public.bench_seed SELECT row_number() OVER (), '%s', '%s', id FROM endpoints;\n" "$id" "$uid"
            done
            echo "COMMIT;"
        } | bsql >/dev/null || bdie "seeding tenants $b.. by SQL failed"
    done
    # The first (signed-up) organization: 25 endpoints by SQL too, so all are alike.
    bsql >/dev/null <<SQL
INSERT INTO public.subscriptions (tenant_id, plan) SELECT id, 'pro' FROM public.tenants ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan;
SET search_path TO "$TENANT", public;
INSERT INTO endpoints (name, url, interval_seconds, timeout_seconds, regions)
    SELECT 'seed ' || g, 'http://93.186.1.' || g || '/seed', 300, 5, '{local}' FROM generate_series(1, 25) g;
INSERT INTO public.bench_seed SELECT row_number() OVER (), '$TENANT', u.id, e.id FROM endpoints e, users u;
SQL
    k=$(bsql -c "SELECT count(DISTINCT tenant_id) || ' tenants, ' || count(*) || ' endpoints' FROM public.bench_seed")
    bsay "seeded $k in $(($(date +%s) - t0)) s"
}

# write_pairs MODE: $PAIRS afresh, with tokens valid for the next route (access tokens live 15
# min; MODE token: the run's one API token). Ordered by endpoint rank, then tenant: consecutive
# lines are different tenants.
write_pairs() {
    local tok mode=$1
    if [ -z "$TENANTS" ]; then
        tok=$(login "$EMAIL")
        [ -n "$tok" ] && [ "$tok" != null ] || bdie "login of the bench owner failed"
        if [ "$mode" = token ]; then   # one API token for the whole run
            if [ -z "${BENCH_API_TOKEN:-}" ]; then
                BENCH_API_TOKEN=$(curl -fsS --max-time 10 -H "Authorization: Bearer $tok" \
                    -H 'Content-Type: application/json' -d '{"name":"bench","role":"owner"}' \
                    "$BASE_URL/api/tokens/" | jq -r .token) || bdie "POST /api/tokens/ failed"
                [[ $BENCH_API_TOKEN == swt_* ]] || bdie "no API token from POST /api/tokens/"
            fi
            tok=$BENCH_API_TOKEN
        fi
        bsql -c "SELECT endpoint_id FROM public.bench_seed ORDER BY k" | sed "s/^/$tok /" >"$PAIRS"
    else
        bsql -F ' ' -c "SELECT tenant_id, user_id, endpoint_id FROM public.bench_seed ORDER BY k, tenant_id" |
            SECRET_KEY=$(set -a; . "$SW_VAR/secrets.env"; printf '%s' "$SECRET_KEY") python3 -c '
import base64, hashlib, hmac, json, os, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = hmac.new(os.environ["SECRET_KEY"].encode(), b"statuswatch/jwt/access/v1", hashlib.sha256).digest()
now, cache = int(time.time()), {}
for line in sys.stdin:
    tid, sub, ep = line.split()
    if tid not in cache:   # claims as sw_jwt_issue (bus/jwt.c) writes them
        claims = {"iss": "statuswatch", "aud": "statuswatch-api", "typ": "access", "tid": tid,
                  "sub": sub, "role": "owner", "jti": os.urandom(16).hex(), "iat": now,
                  "nbf": now, "exp": now + 900}
        si = b64(b"{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." + b64(json.dumps(claims).encode())
        cache[tid] = si + "." + b64(hmac.new(key, si.encode(), hashlib.sha256).digest())
    print(cache[tid], ep)
' >"$PAIRS"
    fi
    chmod 600 "$PAIRS"
    [ -s "$PAIRS" ] || bdie "no (token, endpoint) pairs"
    local first last
    first=$(head -n1 "$PAIRS" | cut -d' ' -f1) last=$(tail -n1 "$PAIRS" | cut -d' ' -f1)
    local probe=/api/auth/me/
    [ "$mode" = jwt ] || probe=/api/endpoints/
    for tok in "$first" "$last"; do
        curl -fsS --max-time 10 -o /dev/null -H "Authorization: Bearer $tok" "$BASE_URL$probe" ||
            bdie "a bench token is refused by GET $probe"
    done
}

if [ -n "$TENANTS" ]; then seed_sql "$TENANTS"; else seed_api; fi
export BENCH_PAIRS=$PAIRS BENCH_EMAIL=$EMAIL BENCH_PASSWORD BENCH_RUN=$(date +%s)

for a in scheduler prober recorder; do "$SW_OPS" actor stop "$a" >/dev/null 2>&1; done
PGSS=0
if bsql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1; then PGSS=1; fi

routes_json='{}'
printf '\n%-30s %9s %8s %8s %7s   %s\n' ROUTE 'REQ/S' 'P50 ms' 'P99 ms' ERRORS \
    'CPU µs/request: edge, actor, nats-server, postgres (all processes in the JSON)' >&2
# run_route ROUTE MODE: one wrk run; its figures go into routes_json under ROUTE (MODE jwt) or
# ROUTE@token, and one line is printed.
run_route() {
    local route=$1 mode=$2 label actor key
    case $route in
        list) label='GET /api/endpoints/' actor=endpoints ;;
        get) label='GET /api/endpoints/{id}/' actor=endpoints ;;
        checks) label='GET /api/endpoints/{id}/checks/' actor=endpoints ;;
        uptime) label='GET /api/endpoints/{id}/uptime/' actor=endpoints ;;
        me) label='GET /api/auth/me/' actor=auth ;;
        create) label='POST /api/endpoints/' actor=endpoints ;;
        token) label='POST /api/auth/token/' actor=auth ;;
    esac
    key=$route
    if [ "$mode" = token ]; then label="$label [API token]" key=$route@token; fi
    write_pairs "$mode"
    [ "$PGSS" = 1 ] && bsql -c "SELECT pg_stat_statements_reset()" >/dev/null
    la_before=$(loadavg)
    before=$(cpu_snapshot)
    # BENCH_RUN makes the created URLs unique: one value per run, or the second run of a route
    # would create the first one's URLs again (400, duplicate).
    out=$(BENCH_ROUTE=$route BENCH_RUN=$BENCH_RUN-$mode wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$WRK_DIR/rotate.lua" "$BASE_URL" 2>&1) ||
        { printf '%s\n' "$out" >&2; bdie "wrk failed on $label"; }
    after=$(cpu_snapshot)
    la_after=$(loadavg)
    res=$(printf '%s\n' "$out" | sed -n 's/^WRK_JSON //p')
    [ -n "$res" ] || { printf '%s\n' "$out" >&2; bdie "no figures from wrk for $label"; }
    cpu=$(cpu_delta "$before" "$after" "$(jq .duration_s <<<"$res")" "$(jq .requests <<<"$res")")
    sql_top='[]' sql_sum='{"calls": 0, "statements": 0}'
    if [ "$PGSS" = 1 ]; then
        # All calls (not only the top 8: with many tenants each schema's text is its own entry).
        sql_sum=$(bsql -c "SELECT json_build_object('calls', coalesce(sum(calls), 0), 'statements', count(*))
            FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'")   # where the database time went: statements per request, µs each
        sql_top=$(bsql -c "SELECT coalesce(json_agg(x), '[]') FROM (SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS query,
            calls, round((total_exec_time * 1000 / greatest(calls, 1))::numeric, 1) AS us_per_call,
            round((total_exec_time / 1000)::numeric, 2) AS total_s
            FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
            ORDER BY total_exec_time DESC LIMIT 8) x")
    fi
    res=$(jq --arg l "$label" --arg a "$actor" --arg auth "$mode" --argjson cpu "$cpu" --arg lb "$la_before" --arg la "$la_after" --argjson sql "$sql_top" --argjson sqlsum "$sql_sum" \
        --argjson tenants "$(cut -d' ' -f1 "$PAIRS" | sort -u | wc -l)" \
        '. + {route: $l, actor: $a, auth: $auth, tenants_spread: $tenants, cpu: $cpu, loadavg_before: $lb, loadavg_after: $la,
              sql_statements_per_request: ($sqlsum.calls / ([.requests, 1] | max)),
              sql_distinct_statement_texts: $sqlsum.statements, sql_top: $sql}' <<<"$res")
    routes_json=$(jq --arg k "$key" --argjson v "$res" '. + {($k): $v}' <<<"$routes_json")
    printf '%-30s %9s %8s %8s %7s   %s\n' "$label" "$(jq .req_per_s <<<"$res")" \
        "$(jq .latency_ms.p50 <<<"$res")" "$(jq .latency_ms.p99 <<<"$res")" \
        "$(jq '[.errors[]] | add' <<<"$res")" \
        "$(jq -r '.actor as $a | [["edge", $a, "nats", "postgres"][] as $p | "\($p) \(.cpu[$p].us_per_request // "?")"] | join(", ")' <<<"$res")" >&2
}

for route in "${ROUTE_LIST[@]}"; do
    case $AUTH,$route in
        token,me | token,token) run_route "$route" jwt ;;   # auth routes take no API token
        token,*) run_route "$route" token ;;
        both,me | both,token | jwt,*) run_route "$route" jwt ;;
        both,*) run_route "$route" jwt; run_route "$route" token ;;   # back to back
    esac
done
if [ "$AUTH" = both ]; then
    # The API token's figures as a % of the JWT's, per route (100: the same).
    printf '\nAPI token vs JWT (token as %% of JWT; CPU µs per request of the edge and the actor):\n' >&2
    jq -r '. as $all | to_entries | map(select(.key | endswith("@token"))) | .[] |
        (.key | rtrimstr("@token")) as $r | $all[$r] as $j | .value as $t |
        def pct(a; b): if (b // 0) > 0 then ((a // 0) * 1000 / b | round / 10 | tostring) + " %" else "?" end;
        "  \($r): req/s \($t.req_per_s) vs \($j.req_per_s) (\(pct($t.req_per_s; $j.req_per_s))), " +
        "edge µs \($t.cpu.edge.us_per_request // "?") vs \($j.cpu.edge.us_per_request // "?") (\(pct($t.cpu.edge.us_per_request; $j.cpu.edge.us_per_request))), " +
        "\($t.actor) µs \($t.cpu[$t.actor].us_per_request // "?") vs \($j.cpu[$j.actor].us_per_request // "?") (\(pct($t.cpu[$t.actor].us_per_request; $j.cpu[$j.actor].us_per_request)))"' <<<"$routes_json" >&2
fi
if [ "$PGSS" = 1 ]; then
    printf '\nSQL per request (pg_stat_statements):\n' >&2
    jq -r 'to_entries[] | "  \(.value.route): \(.value.sql_statements_per_request * 10 | round / 10) statements/request (\(.value.sql_distinct_statement_texts) distinct texts); top: \(.value.sql_top[:3] | map("\(.calls)x \(.us_per_call)us \(.query[:60])") | join(" | "))"' <<<"$routes_json" >&2
fi
if [ -n "$TENANTS" ]; then
    seeding="1 tenant via API sign-up + mail verification, $((TENANTS - 1)) by SQL (tenant rows, schema + tenant migrations, owner with the first owner's password hash), 25 endpoints each by SQL; access tokens minted with the instance's SECRET_KEY (claims of sw_jwt_issue)"
else
    seeding="3 tenants via API sign-up + mail verification, plan=pro by SQL, 50 endpoints each via POST; reads as tenant 1 (token from a login)"
    [ "$AUTH" != token ] || seeding="$seeding; requests with an API token (swt_..., role owner) instead of the access JWT (auth routes: the JWT)"
    [ "$AUTH" != both ] || seeding="$seeding; each route with the access JWT, then at once with an API token (swt_..., role owner; key <route>@token)"
fi
printf '\n(%s; load average now: %s; budget for GET: >= 5000 req/s, p99 <= 25 ms at 64 connections)\n' \
    "${TENANTS:-1} tenant(s) in the requests" "$(loadavg)" >&2

result=$(jq -n --argjson routes "$routes_json" --argjson machine "$(machine_json)" \
    --arg at "$(date -u +%FT%TZ)" --arg cmd "ops/sw bench api${TENANTS:+ --tenants $TENANTS}${ROUTES:+ --routes $ROUTES} --auth $AUTH" \
    --arg th "$THREADS" --arg c "$CONNS" --arg s "$SECS" --arg la "$(loadavg)" --arg seeding "$seeding" \
    --arg tenants "${TENANTS:-3}" \
    '{bench: "api", at: $at, command: $cmd, tenants: ($tenants|tonumber),
      wrk: {threads: ($th|tonumber), connections: ($c|tonumber), seconds: ($s|tonumber), script: "ops/bench/wrk/rotate.lua"},
      settings: {SW_THROTTLE_LOGIN: env.SW_THROTTLE_LOGIN, SW_HTTP_THREADS: (env.SW_HTTP_THREADS // "256 (default)"), SW_HTTP_MAX_CONN_PER_CLIENT: env.SW_HTTP_MAX_CONN_PER_CLIENT,
                 seeding: $seeding, stopped_during_run: ["scheduler", "prober", "recorder"]},
      budget: {list: {req_per_s_min: 5000, p99_ms_max: 25}},
      loadavg_end: $la, machine: $machine, routes: $routes}')
f=$(write_result "api${TENANTS:+-t$TENANTS}" "$result")
bsay "results: ${f#"$BENCH_REPO"/}"
