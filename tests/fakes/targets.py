#!/usr/bin/python3
"""Probe targets for the tests: real HTTP and HTTPS servers on loopback with the behaviours a
prober meets in the wild. Prints "READY <http_port> <https_port>" on stdout once listening.

  /ok                      200
  /status/<code>           that status
  /slow?ms=N               200 after N ms
  /hang                    never answers (until the client gives up)
  /reset                   closes the connection without a response
  /redirect/<n>            a chain of n redirects ending at /ok
  /redirect-to?url=U       one redirect to U (e.g. a denied address)
  /switch/<name>           the status last set for <name> (200 until set)
  /set/<name>/<code>       sets it (used by tests to take a target down and up again)
  /hits/<name>             how many times /switch/<name> was requested
The HTTPS port serves the same paths with a self-signed certificate (a prober must refuse it).

Usage: targets.py [--host 127.0.0.1] [--port 0] [--tls-port 0] [--workdir DIR]
"""
import argparse
import http.server
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

SWITCHES = {}
HITS = {}
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the tests read results, not our log
        pass

    def reply(self, code, body=b"ok\n", headers=None):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = urllib.parse.parse_qs(url.query)
        if not parts or parts[0] == "ok":
            return self.reply(200)
        head = parts[0]
        if head == "status" and len(parts) == 2:
            return self.reply(int(parts[1]))
        if head == "slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000.0)
            return self.reply(200)
        if head == "hang":
            time.sleep(3600)
            return None
        if head == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
            return None
        if head == "redirect" and len(parts) == 2:
            n = int(parts[1])
            return self.reply(302, b"", {"Location": "/ok" if n <= 1 else f"/redirect/{n - 1}"})
        if head == "redirect-to":
            return self.reply(302, b"", {"Location": query.get("url", ["/ok"])[0]})
        if head == "switch" and len(parts) == 2:
            with LOCK:
                HITS[parts[1]] = HITS.get(parts[1], 0) + 1
                code = SWITCHES.get(parts[1], 200)
            return self.reply(code)
        if head == "set" and len(parts) == 3:
            with LOCK:
                SWITCHES[parts[1]] = int(parts[2])
            return self.reply(200)
        if head == "hits" and len(parts) == 2:
            with LOCK:
                return self.reply(200, f"{HITS.get(parts[1], 0)}\n".encode())
        return self.reply(404, b"not found\n")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def self_signed(workdir):
    key, crt = os.path.join(workdir, "target.key"), os.path.join(workdir, "target.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt, key


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-port", type=int, default=0)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="sw-targets-")

    plain = Server((args.host, args.port), Handler)
    tls = Server((args.host, args.tls_port), Handler)
    crt, key = self_signed(workdir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    for srv in (plain, tls):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(f"READY {plain.server_address[1]} {tls.server_address[1]}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
