#!/usr/bin/python3
"""Every metric name a PromQL expression of ours uses must exist.

Reads a /metrics scrape (the names of its samples and of its # TYPE families), the recording
rules of ops/prometheus (their `record` names), and checks every expression of the rules and of
the Grafana dashboard (ops/grafana/*.json: panel targets, template queries): each metric name in
it must be in the scrape, a recording rule, or one Prometheus makes itself (`up`). Prints one
line per unknown name (where it is used) and exits 1 when there is any.

    check_promql_names.py --metrics scrape.txt --rules rules.yml --dashboard dash.json [--expr E]
"""

import argparse
import json
import re
import sys

import yaml  # python3-yaml (Debian), in SW_APT_PACKAGES of ops/sw

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "bool", "offset", "inf", "nan", "atan2"}
BUILTIN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
SUFFIXES = ("_bucket", "_count", "_sum")


def names_in(expr: str) -> set:
    """Metric names of a PromQL expression (a lexer good enough for what we write)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)           # string literals
    e = re.sub(r"\$\{[^}]*\}|\$\w+", "", e)                 # Grafana variables
    e = re.sub(r"\{[^}]*\}", "", e)                         # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                        # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\|\s*\w+", "", e)                          # template pipes ({{ $value | x }})
    out = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)", e):
        word = m.group(1)
        rest = e[m.end():].lstrip()
        if rest.startswith("("):                            # a function or aggregation
            continue
        if word.lower() in KEYWORDS:
            continue
        out.add(word)
    return out


def scrape_names(path: str) -> set:
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# TYPE "):
                family = line.split()[2]
                names.add(family)
            elif line.strip() and not line.startswith("#"):
                names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def dashboard_exprs(path: str):
    dash = json.load(open(path, encoding="utf-8"))

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    yield f"panel '{p.get('title')}'", t["expr"]
            yield from walk(p.get("panels", []))

    yield from walk(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.match(r"label_values\(\s*([^,)]+)", q or "")
        if m:
            yield f"variable '{v.get('name')}'", m.group(1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--rules", required=True, action="append")
    ap.add_argument("--dashboard", action="append", default=[])
    ap.add_argument("--expr", action="append", default=[], help="an extra expression to check")
    args = ap.parse_args()

    known = scrape_names(args.metrics) | BUILTIN
    exprs = []
    for path in args.rules:
        doc = yaml.safe_load(open(path, encoding="utf-8"))
        for group in doc["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    known.add(rule["record"])
                exprs.append((f"{path}: {rule.get('record') or rule.get('alert')}", rule["expr"]))
    for path in args.dashboard:
        exprs += [(f"{path}: {where}", e) for where, e in dashboard_exprs(path)]
    exprs += [("--expr", e) for e in args.expr]

    unknown = 0
    for where, expr in exprs:
        for name in sorted(names_in(expr)):
            base = next((name[: -len(s)] for s in SUFFIXES if name.endswith(s)), name)
            if name not in known and base not in known:
                print(f"unknown metric {name} in {where}")
                unknown += 1
    print(f"checked {len(exprs)} expressions against {len(known)} known names: "
          f"{unknown} unknown")
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main())
