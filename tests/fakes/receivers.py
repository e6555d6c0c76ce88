#!/usr/bin/python3
"""Notification receivers for StatusWatch's alerting tests (issue 19).

One loopback HTTP server that plays every service a notification channel talks to and checks
each request against that service's documented wire format, recording what it got and whether
it was valid. The path says which service (and a name of the test's choosing):

  /slack/<n>      Slack incoming webhook: JSON with "text" and a "blocks" list
  /discord/<n>    Discord webhook: JSON with "content" and an "embeds" list (title/description)
  /teams/<n>      Teams workflow webhook: {"type": "message", "attachments": [an Adaptive Card]}
  /pd/v2/enqueue  PagerDuty Events API v2: routing_key, event_action, dedup_key, payload
                  (summary, source, severity) for trigger; answers 202 like PagerDuty
  /ntfy/<n>       ntfy publish: a text body with Title, Priority and Tags headers
  /tg/bot<token>/sendMessage  Telegram Bot API sendMessage: JSON chat_id and text
  /webhook/<n>    Standard Webhooks: verified with the reference implementation
                  (tests/fakes/webhook_verify, npm `standardwebhooks`) against the secret the
                  test registered with POST /_secret/<n> {"secret": "whsec_..."}
  /fail2/<n>      any of the above formats accepted; answers 500 twice, then 200
  /hang/<n>       never answers (sleeps 120 s)

GET /_log returns every recorded request as a JSON list of {"path", "service", "headers",
"body", "valid", "errors", "at"}. Prints "READY <port>" once listening (--port PORT, else
any free one).
"""

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
LOCK = threading.Lock()
LOG = []
SECRETS = {}
COUNTS = {}
SEVERITIES = {"critical", "error", "warning", "info"}
PRIORITIES = {"1", "2", "3", "4", "5", "min", "low", "default", "high", "max", "urgent"}


def check_slack(h, body, errs):
    o = json.loads(body)
    if not isinstance(o.get("text"), str) or not o["text"]:
        errs.append("slack: text missing")
    blocks = o.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        errs.append("slack: blocks missing")
    else:
        for b in blocks:
            if b.get("type") not in ("header", "section", "context", "divider", "actions"):
                errs.append("slack: unknown block type %r" % b.get("type"))
            t = b.get("text")
            if b.get("type") == "header" and (not t or t.get("type") != "plain_text"):
                errs.append("slack: a header block needs plain_text")
            if b.get("type") == "section" and (not t or t.get("type") not in ("mrkdwn", "plain_text")):
                errs.append("slack: a section needs a text object")
            if t and len(t.get("text", "")) > (150 if b.get("type") == "header" else 3000):
                errs.append("slack: block text too long")


def check_discord(h, body, errs):
    o = json.loads(body)
    if not (isinstance(o.get("content"), str) and 0 < len(o["content"]) <= 2000):
        errs.append("discord: content missing or over 2000 characters")
    embeds = o.get("embeds")
    if not isinstance(embeds, list) or not 1 <= len(embeds) <= 10:
        errs.append("discord: embeds missing")
    else:
        e = embeds[0]
        if len(e.get("title", "")) > 256 or len(e.get("description", "")) > 4096:
            errs.append("discord: embed title/description too long")
        if not e.get("title") and not e.get("description"):
            errs.append("discord: empty embed")
        if "color" in e and not (isinstance(e["color"], int) and 0 <= e["color"] <= 0xFFFFFF):
            errs.append("discord: color must be an integer")


def check_teams(h, body, errs):
    o = json.loads(body)
    if o.get("type") != "message":
        errs.append("teams: type must be message")
    att = o.get("attachments")
    if not isinstance(att, list) or len(att) != 1:
        errs.append("teams: one attachment expected")
        return
    a = att[0]
    if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
        errs.append("teams: contentType must be application/vnd.microsoft.card.adaptive")
    c = a.get("content") or {}
    if c.get("type") != "AdaptiveCard" or not c.get("version") or not isinstance(c.get("body"), list):
        errs.append("teams: content must be an AdaptiveCard with version and body")
    if c.get("$schema") != "http://adaptivecards.io/schemas/adaptive-card.json":
        errs.append("teams: $schema missing")
    for el in c.get("body", []):
        if el.get("type") == "TextBlock" and not isinstance(el.get("text"), str):
            errs.append("teams: a TextBlock needs text")


def check_pagerduty(h, body, errs):
    o = json.loads(body)
    if not isinstance(o.get("routing_key"), str) or len(o["routing_key"]) == 0:
        errs.append("pagerduty: routing_key missing")
    act = o.get("event_action")
    if act not in ("trigger", "acknowledge", "resolve"):
        errs.append("pagerduty: event_action must be trigger, acknowledge or resolve")
    if act in ("acknowledge", "resolve") and not o.get("dedup_key"):
        errs.append("pagerduty: dedup_key required to %s" % act)
    if act == "trigger":
        p = o.get("payload") or {}
        if not p.get("summary") or len(p["summary"]) > 1024:
            errs.append("pagerduty: payload.summary missing or over 1024 characters")
        if not p.get("source"):
            errs.append("pagerduty: payload.source missing")
        if p.get("severity") not in SEVERITIES:
            errs.append("pagerduty: payload.severity must be critical, error, warning or info")
    if o.get("dedup_key") is not None and len(o["dedup_key"]) > 255:
        errs.append("pagerduty: dedup_key over 255 characters")


def check_ntfy(h, body, errs):
    if not h.get("Title"):
        errs.append("ntfy: Title header missing")
    if h.get("Priority") not in PRIORITIES:
        errs.append("ntfy: Priority header missing or invalid")
    if not h.get("Tags"):
        errs.append("ntfy: Tags header missing")
    if not body:
        errs.append("ntfy: empty message")


def check_telegram(h, body, errs):
    o = json.loads(body)
    if not o.get("chat_id"):
        errs.append("telegram: chat_id missing")
    if not isinstance(o.get("text"), str) or not 1 <= len(o["text"]) <= 4096:
        errs.append("telegram: text missing or over 4096 characters")


def check_webhook(name, h, body, errs):
    secret = SECRETS.get(name)
    if not secret:
        errs.append("webhook: no secret registered for %s" % name)
        return
    headers = {k.lower(): v for k, v in h.items()}
    try:
        r = subprocess.run(["node", os.path.join(HERE, "webhook_verify", "verify.mjs")],
                           input=json.dumps({"secret": secret, "headers": headers, "body": body}),
                           capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            errs.append("webhook: " + (r.stdout.strip() or r.stderr.strip()))
    except Exception as e:  # noqa: BLE001 - a verifier that cannot run is a failed check
        errs.append("webhook: verifier did not run: %s" % e)
    o = json.loads(body)
    if o.get("type") not in ("incident.opened", "incident.resolved", "tls.expiring", "reminder",
                             "test", "rollup"):
        errs.append("webhook: unknown type")
    for k in ("id", "created_at", "data"):
        if k not in o:
            errs.append("webhook: %s missing" % k)


def service_of(path):
    parts = path.split("/")
    if len(parts) > 1 and parts[1] == "tg":
        return "telegram", ""
    if path.startswith("/pd/"):
        return "pagerduty", ""
    return (parts[1] if len(parts) > 1 else ""), (parts[2] if len(parts) > 2 else "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # no body, no secrets in the log
        pass

    def answer(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/_log"):
            with LOCK:
                self.answer(200, LOG)
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        if self.path.startswith("/_secret/"):
            SECRETS[self.path.split("/")[2]] = json.loads(body)["secret"]
            return self.answer(200, {})
        service, name = service_of(self.path)
        behaviour = None
        if service in ("fail2", "hang"):
            behaviour = service
            service, name = service_of("/" + "/".join(self.path.split("/")[2:]))
        errs = []
        h = {k: v for k, v in self.headers.items()}
        try:
            if service == "slack":
                check_slack(h, body, errs)
            elif service == "discord":
                check_discord(h, body, errs)
            elif service == "teams":
                check_teams(h, body, errs)
            elif service == "pagerduty":
                check_pagerduty(h, body, errs)
            elif service == "ntfy":
                check_ntfy(h, body, errs)
            elif service == "telegram":
                check_telegram(h, body, errs)
            elif service == "webhook":
                check_webhook(name, h, body, errs)
            else:
                errs.append("unknown service %r" % service)
        except (ValueError, AttributeError, TypeError) as e:
            errs.append("%s: not the expected JSON: %s" % (service, e))
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            count = COUNTS[self.path]
            LOG.append({"path": self.path, "service": service, "behaviour": behaviour,
                        "headers": h, "body": body, "valid": not errs, "errors": errs,
                        "at": time.time(), "n": count})
        if behaviour == "hang":
            time.sleep(120)
            return
        if behaviour == "fail2" and count <= 2:
            return self.answer(500, {"error": "try again"})
        if service == "pagerduty":
            return self.answer(202, {"status": "success", "message": "Event processed",
                                     "dedup_key": json.loads(body).get("dedup_key")})
        if service == "telegram":
            return self.answer(200, {"ok": True, "result": {"message_id": len(LOG)}})
        self.answer(200, {"ok": True})


def main():
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    print("READY %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
