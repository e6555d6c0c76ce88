#!/usr/bin/python3
"""Sentry ingest double for StatusWatch's test instance.

Speaks the part of Sentry's ingestion protocol the services use: POST
/api/<project_id>/envelope/ with an X-Sentry-Auth header, the body an envelope (a JSON header
line, then items: a JSON item header line and its payload, the payload `length` bytes long when
the item header says so, else up to the next newline; gzip or deflate Content-Encoding allowed).
It checks what it receives the way Sentry's Relay does and answers like it:

- 401 when X-Sentry-Auth is missing or is not `Sentry sentry_version=7, sentry_key=..., ...`
  with a sentry_client (browser SDKs put the same three fields in the query string instead, as
  Sentry allows); 403 when the key or the project is not the one configured;
- 400 when the envelope is malformed: not UTF-8 JSON lines, an item without a type, a length
  that does not match, an event without a 32-hex event_id (or another id than the envelope
  header's), a timestamp, a known level, a platform, string tags, a message or an exception;
- 200 {"id": "<event_id>"} otherwise.

Each accepted envelope becomes <dir>/<unix-ns>-<n>.json ({"auth": {...}, "header": {...},
"items": [{"header": ..., "payload": ...}]}), written under a dot-name and renamed so a reader
never sees half a file. Each refusal is one JSON line in <dir>/rejected.log (status, reason, path, query).
The log gets one line per request, never the payload.

Run by `ops/sw test`; standalone:
    /usr/bin/python3 tests/fakes/sentry_fake.py --port 22528 --dir var/test/sentry \
        --key 0123abcd --project 42
"""

import argparse
import gzip
import itertools
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LEVELS = {"fatal", "error", "warning", "info", "debug"}
HEX32 = re.compile(r"^[0-9a-f]{32}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
MAX_BODY = 1024 * 1024


def log(msg: str) -> None:
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    print(f"{ts}Z sentry_fake: {msg}", flush=True)


class Refused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_auth(value: str) -> dict:
    """X-Sentry-Auth: `Sentry k=v, k=v` (Sentry's own format)."""
    if not value or not value.startswith("Sentry "):
        raise Refused(401, "X-Sentry-Auth missing or not 'Sentry ...'")
    fields = {}
    for part in value[len("Sentry "):].split(","):
        k, sep, v = part.strip().partition("=")
        if not sep or not k:
            raise Refused(401, "X-Sentry-Auth: malformed field")
        fields[k] = v
    if fields.get("sentry_version") != "7":
        raise Refused(401, "X-Sentry-Auth: sentry_version is not 7")
    if not fields.get("sentry_key"):
        raise Refused(401, "X-Sentry-Auth: no sentry_key")
    if not fields.get("sentry_client"):
        raise Refused(401, "X-Sentry-Auth: no sentry_client")
    return fields


def json_line(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, f"{what} is not a JSON line")
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")
    return value


def parse_envelope(body: bytes):
    nl = body.find(b"\n")
    if nl < 0:
        raise Refused(400, "no newline after the envelope header")
    header = json_line(body[:nl], "the envelope header")
    pos = nl + 1
    items = []
    while pos < len(body):
        if body[pos:pos + 1] == b"\n":  # an empty line between items is allowed
            pos += 1
            continue
        nl = body.find(b"\n", pos)
        if nl < 0:
            raise Refused(400, "an item header without its payload")
        item_header = json_line(body[pos:nl], "an item header")
        if not isinstance(item_header.get("type"), str) or not item_header["type"]:
            raise Refused(400, "an item header without a type")
        pos = nl + 1
        length = item_header.get("length")
        if length is not None:
            if not isinstance(length, int) or length < 0 or pos + length > len(body):
                raise Refused(400, "an item length that does not fit the body")
            payload = body[pos:pos + length]
            pos += length
            if pos < len(body) and body[pos:pos + 1] != b"\n":
                raise Refused(400, "no newline after a payload of the stated length")
            pos += 1
        else:
            nl = body.find(b"\n", pos)
            end = nl if nl >= 0 else len(body)
            payload = body[pos:end]
            pos = end + 1
        items.append((item_header, payload))
    if not items:
        raise Refused(400, "an envelope without items")
    return header, items


def check_event(header: dict, payload: bytes) -> dict:
    event = json_line(payload, "the event payload")
    event_id = event.get("event_id")
    if not isinstance(event_id, str) or not HEX32.match(event_id):
        raise Refused(400, "event_id is not 32 lowercase hex digits")
    if "event_id" in header and header["event_id"] != event_id:
        raise Refused(400, "the envelope header's event_id is not the event's")
    ts = event.get("timestamp")
    if not (isinstance(ts, (int, float)) or (isinstance(ts, str) and RFC3339.match(ts))):
        raise Refused(400, "timestamp is neither RFC 3339 nor a number")
    if event.get("level") not in LEVELS:
        raise Refused(400, "level is not one of fatal, error, warning, info, debug")
    if not isinstance(event.get("platform"), str):
        raise Refused(400, "no platform")
    tags = event.get("tags", {})
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) <= 200 and len(v) <= 200
        for k, v in tags.items()
    ):
        raise Refused(400, "tags must map strings to strings of at most 200 characters")
    for key in ("release", "environment", "logger", "server_name"):
        if key in event and not isinstance(event[key], str):
            raise Refused(400, f"{key} is not a string")
    fingerprint = event.get("fingerprint", [])
    if not isinstance(fingerprint, list) or not all(isinstance(f, str) for f in fingerprint):
        raise Refused(400, "fingerprint must be a list of strings")
    message = event.get("message")
    exception = event.get("exception")
    has_message = isinstance(message, dict) and isinstance(message.get("formatted"), str)
    has_exception = isinstance(exception, dict) and isinstance(exception.get("values"), list) \
        and all(isinstance(v, dict) and isinstance(v.get("type"), str) for v in exception["values"])
    if not has_message and not has_exception:
        raise Refused(400, "neither a message nor an exception")
    return event


class Store:
    def __init__(self, directory: str):
        self.directory = directory
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def save(self, doc: dict) -> None:
        name = f"{time.time_ns()}-{next(self.counter)}.json"
        temp = os.path.join(self.directory, f".{name}.tmp")
        with open(temp, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.rename(temp, os.path.join(self.directory, name))

    def reject(self, status: int, reason: str, path: str, query: str) -> None:
        line = json.dumps({"time": time.time(), "status": status, "reason": reason, "path": path,
                           "query": query})
        with self.lock, open(os.path.join(self.directory, "rejected.log"), "a") as f:
            f.write(line + "\n")


def make_handler(store: Store, key: str, project: str):
    path_re = re.compile(r"^/api/(\d+)/envelope/?$")

    class Handler(BaseHTTPRequestHandler):
        server_version = "sentry-fake"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # one line of our own per request instead
            pass

        def reply(self, status: int, body: dict, extra=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def auth(self, query: str) -> dict:
            """X-Sentry-Auth, or (as browser SDKs send it) sentry_key/sentry_version/sentry_client
            in the query string."""
            header = self.headers.get("X-Sentry-Auth", "")
            if header:
                return parse_auth(header)
            q = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
            if "sentry_key" not in q:
                raise Refused(401, "X-Sentry-Auth missing or not 'Sentry ...'")
            return parse_auth("Sentry " + ", ".join(
                f"{k}={q.get(k, '')}" for k in ("sentry_version", "sentry_key", "sentry_client")))

        def end_headers(self):
            self.send_header("Access-Control-Allow-Origin", "*")  # the dashboard is another origin
            super().end_headers()

        def do_OPTIONS(self):
            self.send_response(204)
            self.send_header("Access-Control-Allow-Methods", "POST")
            self.send_header("Access-Control-Allow-Headers", "Content-Type, X-Sentry-Auth")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            if self.path == "/health":
                self.reply(200, {"ok": True})
            else:
                self.reply(404, {"detail": "not found"})

        def do_POST(self):
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if 0 < length <= MAX_BODY else b""
            try:
                m = path_re.match(path)
                if not m:
                    raise Refused(404, "not an envelope endpoint")
                if length <= 0 or length > MAX_BODY:
                    raise Refused(400 if length <= 0 else 413, "empty or too large body")
                auth = self.auth(query)
                if auth["sentry_key"] != key:
                    raise Refused(403, "unknown sentry_key")
                if m.group(1) != project:
                    raise Refused(403, "unknown project")
                ctype = self.headers.get("Content-Type", "")
                # Browsers post text/plain (a "simple" CORS request, no preflight).
                if ctype.split(";")[0].strip() not in ("application/x-sentry-envelope",
                                                       "text/plain", ""):
                    raise Refused(400, f"unexpected Content-Type {ctype[:60]}")
                encoding = self.headers.get("Content-Encoding", "").strip().lower()
                try:
                    if encoding == "gzip":
                        body = gzip.decompress(body)
                    elif encoding == "deflate":
                        body = zlib.decompress(body)
                    elif encoding:
                        raise Refused(400, "unknown Content-Encoding")
                except (OSError, zlib.error):
                    raise Refused(400, "body does not decompress")
                header, items = parse_envelope(body)
                out_items, event_id = [], header.get("event_id")
                for item_header, payload in items:
                    if item_header["type"] == "event":
                        event = check_event(header, payload)
                        event_id = event["event_id"]
                        out_items.append({"header": item_header, "payload": event})
                    else:
                        out_items.append({"header": item_header,
                                          "payload": payload.decode("utf-8", "replace")})
            except Refused as r:
                store.reject(r.status, r.reason, path, query)
                log(f"refused {r.status}: {r.reason}")
                self.reply(r.status, {"detail": r.reason})
                return
            store.save({"auth": {k: auth[k] for k in ("sentry_key", "sentry_client",
                                                      "sentry_version")},
                        "header": header, "items": out_items,
                        "content_encoding": encoding})
            log(f"accepted event {event_id} ({len(items)} item(s))")
            self.reply(200, {"id": event_id})

    return Handler


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--key", required=True, help="the DSN's public key")
    ap.add_argument("--project", required=True, help="the DSN's project id")
    args = ap.parse_args()
    os.makedirs(args.dir, mode=0o700, exist_ok=True)
    server = ThreadingHTTPServer((args.host, args.port),
                                 make_handler(Store(args.dir), args.key, args.project))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    log(f"listening on {args.host}:{args.port}, project {args.project}, envelopes in {args.dir}")
    server.serve_forever()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
