#!/usr/bin/python3
"""The loopback targets of tests/integration/test_checks.c (issue 17): an HTTP server, an HTTPS
server with the certificate the test generated (openssl, expiring in 5 days) and a TCP port that
accepts connections. Prints "READY <http_port> <https_port> <tcp_port>" once listening.

  /json      200 {"status": "degraded", "items": [{"id": 7}, {"id": 8}], "n": 42, "empty": ""}
             with X-Trace: abc-123
  /html      200 <html><body>Please log in</body></html> (text/html)
  /echo      any method: 200 {"method", "body", "x_custom", "authorized", "content_type"};
             authorized is whether Authorization equals the value given on the command line
  /slow      200 {"status": "ok"} after 1200 ms
  /empty     204 (no body)

Usage: checks_targets.py CERT KEY EXPECTED_AUTHORIZATION
"""
import http.server
import json
import socket
import ssl
import sys
import threading
import time

CERT, KEY, AUTH = sys.argv[1], sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        path = self.path.split("?")[0]
        if path == "/json":
            doc = {"status": "degraded", "items": [{"id": 7}, {"id": 8}], "n": 42, "empty": ""}
            self.send(200, json.dumps(doc).encode(), extra=[("X-Trace", "abc-123")])
        elif path == "/html":
            self.send(200, b"<html><body>Please log in</body></html>", "text/html")
        elif path == "/echo":
            doc = {
                "method": self.command,
                "body": body,
                "x_custom": self.headers.get("X-Custom"),
                "authorized": self.headers.get("Authorization") == AUTH,
                "content_type": self.headers.get("Content-Type"),
            }
            self.send(200, json.dumps(doc).encode())
        elif path == "/slow":
            time.sleep(1.2)
            self.send(200, b'{"status": "ok"}')
        elif path == "/empty":
            self.send_response(204)
            self.end_headers()
        else:
            self.send(404, b"{}")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = handle_any


def serve(server):
    server.serve_forever()


def tcp_accept(sock):
    while True:
        conn, _ = sock.accept()
        conn.close()


def main():
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(64)
    for target, arg in ((serve, plain), (serve, tls), (tcp_accept, tcp)):
        threading.Thread(target=target, args=(arg,), daemon=True).start()
    print("READY %d %d %d" % (plain.server_address[1], tls.server_address[1],
                              tcp.getsockname()[1]), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
