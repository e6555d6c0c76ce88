#!/usr/bin/python3
"""Stripe test double for StatusWatch's local and test instances.

Speaks the part of Stripe's wire format StatusWatch uses, on loopback, standard library
only (Debian's /usr/bin/python3):

  POST /v1/checkout/sessions   form-encoded like Stripe (keys percent-decoded too). The key
                               is checked by stripe-mock's rule: Bearer or Basic, split on
                               "_" into exactly sk|rk, test, non-empty, else 401. mode,
                               line_items[0][price], success_url, cancel_url are required
                               (400 invalid_request_error naming the param). Idempotency-Key:
                               same key + same params replays the first response; other
                               params with the same key are a 400 idempotency_error.
                               Returns a checkout.session object like Stripe's.
  GET  /v1/checkout/sessions/<id>
  GET  /v1/checkout/sessions/<id>/line_items
                               the session's line items as Stripe lists them ({"object":
                               "list", "data": [{"object": "item", "price": {"id", ...},
                               "quantity"}], "has_more", "url"}); 404 resource_missing for
                               an unknown session. Webhook payloads never carry line items.
  GET  /checkout/<id>          the "hosted checkout page": a form with a Pay button
                               (no script at all).
  POST /checkout/<id>/pay      completes the session, sends a signed
                               checkout.session.completed to the webhook URL, then 303s to
                               success_url with {CHECKOUT_SESSION_ID} filled in.

For tests (never part of Stripe):

  GET  /__requests             the last requests received (method, path, headers, decoded
                               form), so a test can assert the exact request shape.
  POST /__send_event           signs and delivers any event JSON ({"type", "data":
                               {"object"}}, optional "id", "created") to the webhook URL;
                               answers with the event and the webhook's status and body.
  POST /__fail_next            {"status": 402, "type": "card_error"}: the next API call
                               answers with that Stripe error (stripe-mock cannot do this);
                               {"delay": 8}: the next API call answers 8 s late.

Webhooks are signed as Stripe does: Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the whsec_ string>, plus a v0 that no receiver may accept.
The signing secret comes from the environment (STRIPE_WEBHOOK_SECRET), never argv. The log
gets one line per request, never a key, a signature or a body.

Run by `ops/sw`; standalone:
    STRIPE_WEBHOOK_SECRET=whsec_x /usr/bin/python3 tests/fakes/stripe_fake.py \\
        --port 12111 --webhook-url http://127.0.0.1:8080/api/billing/webhook/
"""

import argparse
import base64
import collections
import hashlib
import hmac
import html
import json
import os
import secrets
import signal
import string
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REQUIRED = ("mode", "line_items[0][price]", "success_url", "cancel_url")
ALNUM = string.ascii_letters + string.digits


def log(msg: str) -> None:
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    print(f"{ts}Z stripe_fake: {msg}", flush=True)


def stripe_id(prefix: str, n: int = 24) -> str:
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(n))


def sign(payload: bytes, secret: str, t: int) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    decoy = hmac.new(os.urandom(16), payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac},v0={decoy}"


def key_from_auth(header: str):
    """The API key of an Authorization header, or None (stripe-mock's parsing)."""
    if not header:
        return None
    if header.startswith("Bearer "):
        return header[len("Bearer "):].strip()
    if header.startswith("Basic "):
        try:
            raw = base64.b64decode(header[len("Basic "):].strip(), validate=True).decode()
        except Exception:
            return None
        return raw.split(":", 1)[0]
    return None


def key_valid(key) -> bool:
    """stripe-mock: exactly three parts on "_": sk|rk, test, non-empty."""
    if not key:
        return False
    parts = key.split("_")
    return len(parts) == 3 and parts[0] in ("sk", "rk") and parts[1] == "test" and parts[2] != ""


def stripe_error(param, message, etype="invalid_request_error", code=None):
    err = {"type": etype, "message": message}
    if param:
        err["param"] = param
    if code:
        err["code"] = code
    err["doc_url"] = "https://stripe.com/docs/error-codes" + (f"/{code.replace('_', '-')}" if code else "")
    return {"error": err}


class State:
    def __init__(self, port: int, webhook_url: str, secret: str):
        self.port = port
        self.webhook_url = webhook_url
        self.secret = secret
        self.lock = threading.Lock()
        self.sessions = {}
        self.idempotency = {}  # key -> (params, status, body)
        self.requests = collections.deque(maxlen=100)
        self.fail_next = None  # (status, error type) for the next API call
        self.delay_next = 0.0  # seconds the next API call waits before answering

    def deliver(self, event: dict):
        """Signs and POSTs an event to the webhook URL; returns (status, body)."""
        payload = json.dumps(event, separators=(",", ":")).encode()
        req = urllib.request.Request(
            self.webhook_url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": sign(payload, self.secret, int(time.time())),
            },
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=15) as resp:
                status, body = resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode("utf-8", "replace")
        except Exception as e:  # unreachable edge: report it, never crash the double
            status, body = 0, f"delivery failed: {type(e).__name__}"
        log(f"webhook {event.get('type')} {event.get('id')} -> {status}")
        return status, body


def make_event(etype: str, obj: dict, created=None, event_id=None) -> dict:
    return {
        "id": event_id or stripe_id("evt_test_"),
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(created if created is not None else time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": etype,
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "stripe-fake/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def st(self) -> State:
        return self.server.state

    # ------------------------------------------------------------------ plumbing

    def log_message(self, fmt, *args):  # the default would log to stderr per request
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            log("client went away before the answer")

    def body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status: int, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else (
            json.dumps(body, indent=2).encode() if ctype == "application/json" else body.encode())
        self.send_response(status)
        self.send_header("Content-Type", ctype if ctype != "application/json" else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", stripe_id("req_", 14))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        log(f"{self.command} {self.path.split('?')[0]} -> {status}")

    def record(self, raw: bytes, form=None):
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "form": form,
            "body": raw.decode("utf-8", "replace"),
            "time": time.time(),
        }
        with self.st.lock:
            self.st.requests.append(entry)

    def authorized(self) -> bool:
        if key_valid(key_from_auth(self.headers.get("Authorization", ""))):
            return True
        self.send(401, stripe_error(
            None, "Invalid API Key provided. Use a test mode secret key: sk_test_<something> "
            "(Bearer or Basic authentication)."))
        return False

    # ------------------------------------------------------------------ routes

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        self.record(b"")
        if path == "/__requests":
            with self.st.lock:
                return self.send(200, {"requests": list(self.st.requests)})
        if path.startswith("/v1/checkout/sessions/") and path.endswith("/line_items"):
            if not self.authorized():
                return
            sid = path[len("/v1/checkout/sessions/"):-len("/line_items")]
            with self.st.lock:
                s = self.st.sessions.get(sid)
            if not s:
                return self.send(404, stripe_error("id", "No such checkout.session", code="resource_missing"))
            return self.send(200, line_items(s))
        if path.startswith("/v1/checkout/sessions/"):
            if not self.authorized():
                return
            with self.st.lock:
                s = self.st.sessions.get(path.rsplit("/", 1)[1])
            if not s:
                return self.send(404, stripe_error("id", "No such checkout.session", code="resource_missing"))
            return self.send(200, s)
        if path.startswith("/checkout/"):
            return self.checkout_page(path[len("/checkout/"):])
        self.send(404, stripe_error(None, f"Unrecognized request URL (GET: {path})."))

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        raw = self.body()
        if path == "/v1/checkout/sessions":
            form = urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
            self.record(raw, form)
            if not self.authorized():
                return
            with self.st.lock:
                fail, self.st.fail_next = self.st.fail_next, None
                delay, self.st.delay_next = self.st.delay_next, 0.0
            if delay:
                time.sleep(delay)
            if fail:
                return self.send(fail[0], stripe_error(None, "Simulated failure.", etype=fail[1]))
            return self.create_session(form)
        self.record(raw)
        if path == "/__send_event":
            return self.send_event(raw)
        if path == "/__fail_next":
            try:
                req = json.loads(raw or b"{}")
                delay = min(float(req.get("delay", 0)), 60.0)
                fail = None if "status" not in req else (int(req["status"]),
                                                         str(req.get("type", "api_error")))
            except (ValueError, TypeError, AttributeError):
                return self.send(400, {"error": "send {\"status\": 402, \"type\": \"card_error\"}"
                                                " or {\"delay\": 8}"})
            with self.st.lock:
                self.st.fail_next = fail
                self.st.delay_next = delay
            return self.send(200, {"fail_next": fail and {"status": fail[0], "type": fail[1]},
                                   "delay_next": delay})
        if path.startswith("/checkout/") and path.endswith("/pay"):
            return self.pay(path[len("/checkout/"):-len("/pay")])
        self.send(404, stripe_error(None, f"Unrecognized request URL (POST: {path})."))

    def create_session(self, form):
        params = {}
        for k, v in form:
            params[k] = v
        idem = self.headers.get("Idempotency-Key")
        if idem is not None:
            if not idem or len(idem) > 255:
                return self.send(400, stripe_error(None, "Idempotency-Key must be 1-255 characters."))
            with self.st.lock:
                seen = self.st.idempotency.get(idem)
            if seen:
                if seen[0] != form:
                    return self.send(400, stripe_error(
                        None, "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{idem}' if you meant to execute a different request.",
                        etype="idempotency_error"))
                return self.send(seen[1], seen[2], extra={"Idempotent-Replayed": "true",
                                                           "Idempotency-Key": idem})
        status, body = self.new_session(params)
        if idem is not None:
            with self.st.lock:
                self.st.idempotency[idem] = (form, status, body)
        self.send(status, body, extra={"Idempotency-Key": idem} if idem else None)

    def new_session(self, p):
        for name in REQUIRED:
            if not p.get(name):
                return 400, stripe_error(name, f"Missing required param: {name}.",
                                         code="parameter_missing")
        if p["mode"] not in ("payment", "setup", "subscription"):
            return 400, stripe_error("mode", f"Invalid mode: must be one of payment, setup, or "
                                     f"subscription", code="parameter_invalid_string")
        for name in ("success_url", "cancel_url"):
            if not p[name].startswith(("http://", "https://")):
                return 400, stripe_error(name, "Not a valid URL", code="url_invalid")
        qty = p.get("line_items[0][quantity]", "1")
        if not qty.isdigit() or int(qty) < 1:
            return 400, stripe_error("line_items[0][quantity]", "Invalid integer: " + qty)
        metadata = {k[len("metadata["):-1]: v for k, v in p.items()
                    if k.startswith("metadata[") and k.endswith("]")}
        sub_metadata = {k[len("subscription_data[metadata]["):-1]: v for k, v in p.items()
                        if k.startswith("subscription_data[metadata][") and k.endswith("]")}
        for k, v in list(metadata.items()) + list(sub_metadata.items()):
            if len(k) > 40 or len(v) > 500:
                return 400, stripe_error("metadata", "Metadata keys are at most 40 characters "
                                         "and values at most 500.")
        sid = stripe_id("cs_test_a1", 56)
        now = int(time.time())
        session = {
            "id": sid,
            "object": "checkout.session",
            "amount_subtotal": None,
            "amount_total": None,
            "cancel_url": p["cancel_url"],
            "client_reference_id": p.get("client_reference_id"),
            "created": now,
            "currency": None,
            "customer": None,
            "customer_email": p.get("customer_email"),
            "expires_at": now + 86400,
            "livemode": False,
            "metadata": metadata,
            "mode": p["mode"],
            "payment_status": "unpaid",
            "status": "open",
            "subscription": None,
            "success_url": p["success_url"],
            "url": f"http://127.0.0.1:{self.st.port}/checkout/{sid}",
            # Kept for the completion event; Stripe copies it onto the Subscription.
            "_price": p["line_items[0][price]"],
            "_quantity": qty,
            "_subscription_metadata": sub_metadata,
        }
        with self.st.lock:
            self.st.sessions[sid] = session
        return 200, public(session)

    def checkout_page(self, sid):
        with self.st.lock:
            s = self.st.sessions.get(sid)
        if not s:
            return self.send(404, "<!doctype html><title>Not found</title><p>No such checkout session.",
                             ctype="text/html; charset=utf-8")
        origin = urllib.parse.urlsplit(s["success_url"])
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pay StatusWatch (Stripe test mode)</title></head>
<body>
<h1>StatusWatch Pro</h1>
<p>Stripe test mode: no card is charged.</p>
<p>Customer: {html.escape(s.get("customer_email") or "")}</p>
<p>Price: {html.escape(s["_price"])}</p>
<form method="post" action="/checkout/{html.escape(sid)}/pay">
<button type="submit">Pay</button>
</form>
<p><a href="{html.escape(s["cancel_url"])}">Cancel</a></p>
</body></html>
"""
        csp = (f"default-src 'none'; form-action 'self' {origin.scheme}://{origin.netloc}; "
               "frame-ancestors 'none'; base-uri 'none'")
        self.send(200, page, ctype="text/html; charset=utf-8",
                  extra={"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff"})

    def pay(self, sid):
        with self.st.lock:
            s = self.st.sessions.get(sid)
            first = bool(s) and s["status"] == "open"
            if first:
                s.update(status="complete", payment_status="paid",
                         customer=stripe_id("cus_", 14), subscription=stripe_id("sub_", 24),
                         amount_subtotal=1900, amount_total=1900, currency="usd")
        if not s:
            return self.send(404, stripe_error("id", "No such checkout.session", code="resource_missing"))
        if first:
            status, _ = self.st.deliver(make_event("checkout.session.completed", public(s)))
            if status == 0 or status >= 500:
                log(f"webhook for {sid} not accepted ({status}); the redirect happens anyway")
        location = s["success_url"].replace("{CHECKOUT_SESSION_ID}", sid)
        self.send(303, b"", ctype="text/plain", extra={"Location": location})

    def send_event(self, raw):
        try:
            req = json.loads(raw or b"{}")
            etype, obj = req["type"], req["data"]["object"]
            if not isinstance(etype, str) or not isinstance(obj, dict):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self.send(400, {"error": "send {\"type\": ..., \"data\": {\"object\": {...}}}"})
        event = make_event(etype, obj, req.get("created"), req.get("id"))
        status, body = self.st.deliver(event)
        self.send(200, {"event": event, "status": status, "body": body})


def line_items(session: dict) -> dict:
    """GET /v1/checkout/sessions/<id>/line_items: a list object of line items (Stripe API
    2024-06-20 shapes), one per session here, with its price expanded as Stripe does."""
    amount = 1900
    item = {
        "id": "li_" + session["id"][-24:],
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": "usd",
        "description": "StatusWatch Pro",
        "price": {
            "id": session["_price"],
            "object": "price",
            "active": True,
            "billing_scheme": "per_unit",
            "currency": "usd",
            "livemode": False,
            "product": "prod_statuswatch",
            "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
            "type": "recurring",
            "unit_amount": amount,
        },
        "quantity": int(session.get("_quantity", 1)),
    }
    return {"object": "list", "data": [item], "has_more": False,
            "url": f"/v1/checkout/sessions/{session['id']}/line_items"}


def public(session: dict) -> dict:
    return {k: v for k, v in session.items() if not k.startswith("_")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=12111)
    ap.add_argument("--webhook-url", required=True)
    args = ap.parse_args()
    secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    if not secret.startswith("whsec_"):
        log("STRIPE_WEBHOOK_SECRET (whsec_...) must be set in the environment")
        return 2
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.state = State(args.port, args.webhook_url, secret)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"listening on {args.host}:{args.port}; webhooks to {args.webhook_url} (Stripe test mode)")
    srv.serve_forever()
    srv.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
