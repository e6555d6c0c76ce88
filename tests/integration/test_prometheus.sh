#!/usr/bin/env bash
# Prometheus and Grafana artefacts against the running test stack (ctest test_prometheus):
#   1. GET /metrics of the test edge passes `promtool check metrics` (the exposition lint);
#   2. ops/prometheus/statuswatch.rules.yml passes `promtool check rules` and its unit tests
#      `promtool test rules ops/prometheus/tests.yml`;
#   3. every metric name used by a rule or by ops/grafana/statuswatch.json is in that scrape
#      or is a recording rule (check_promql_names.py), and the checker does reject a name
#      that does not exist.
# Prints one line per check; exits 1 when any fails.
set -u
src=${1:?usage: test_prometheus.sh SOURCE_DIR}
py=${SW_PYTHON:-/usr/bin/python3}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME CMD...: runs CMD, shows its output, records the verdict
    local name=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        echo "ok   $name"
    else
        echo "FAIL $name"
        fail=1
    fi
    sed 's/^/     /' "$tmp/out"
}

: "${SW_HTTP_LISTEN:?run through ops/sw test (SW_HTTP_LISTEN)}"
if ! curl -fsS --max-time 10 -H "Authorization: Bearer ${SW_METRICS_TOKEN:-}" \
    -o "$tmp/metrics.txt" "http://$SW_HTTP_LISTEN/metrics"; then
    echo "FAIL GET /metrics of the test edge"
    exit 1
fi
echo "ok   GET /metrics ($(grep -c '^# TYPE' "$tmp/metrics.txt") families)"

# promtool check metrics prints its findings and exits non-zero on any.
lint() { promtool check metrics <"$tmp/metrics.txt"; }
check "promtool check metrics" lint
check "promtool check rules" promtool check rules "$src/ops/prometheus/statuswatch.rules.yml"
check "promtool test rules" promtool test rules "$src/ops/prometheus/tests.yml"
check "rules and dashboard name existing metrics" "$py" "$src/tests/integration/check_promql_names.py" \
    --metrics "$tmp/metrics.txt" --rules "$src/ops/prometheus/statuswatch.rules.yml" \
    --dashboard "$src/ops/grafana/statuswatch.json"
# The checker itself: a name that exists nowhere is reported.
if "$py" "$src/tests/integration/check_promql_names.py" --metrics "$tmp/metrics.txt" \
    --rules "$src/ops/prometheus/statuswatch.rules.yml" \
    --expr 'sum by (route) (rate(sw_no_such_metric_total{route="/x"}[5m]))' >"$tmp/out" 2>&1; then
    echo "FAIL the name checker accepted sw_no_such_metric_total"
    fail=1
else
    grep -q 'unknown metric sw_no_such_metric_total' "$tmp/out" &&
        echo "ok   the name checker rejects sw_no_such_metric_total" ||
        { echo "FAIL the name checker failed for another reason"; cat "$tmp/out"; fail=1; }
fi
exit "$fail"
