#!/usr/bin/python3
"""SMTP catcher for StatusWatch's local and test instances.

A real SMTP server (Debian's python3-aiosmtpd) on loopback that accepts every message
and keeps it as a file, so developers can read the mail the service sends and tests can
assert on it. Each message becomes <dir>/<unix-ns>-<n>.eml: it is written under a
dot-name first and renamed, so a reader globbing *.eml never sees half a message. The
file is the message exactly as received, preceded by X-MailFrom / X-RcptTo headers
(the envelope, as aiosmtpd's own Message handler records it). The log gets one line per
message, never the body.

Run by `ops/sw`; standalone:
    /usr/bin/python3 tests/fakes/smtp_catcher.py --port 2525 --dir var/dev/mail
"""

import argparse
import asyncio
import email.parser
import email.policy
import itertools
import logging
import os
import signal
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult


def log(msg: str) -> None:
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    print(f"{ts}Z smtp_catcher: {msg}", flush=True)


def header_only(raw: bytes, name: str) -> str:
    """One header of a raw message, parsed without touching the body."""
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    try:
        value = parser.parsebytes(raw).get(name, "")
    except Exception:  # a malformed header must not stop the catcher
        return "?"
    return " ".join(str(value).split())[:120]


class MaildirLikeHandler:
    """Stores each message as its own file; the counter keeps names unique."""

    def __init__(self, directory: str):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        n = next(self.counter)
        name = f"{time.time_ns()}-{n}.eml"
        final = os.path.join(self.directory, name)
        temp = os.path.join(self.directory, f".{name}.tmp")
        envelope_headers = (
            f"X-MailFrom: {envelope.mail_from}\r\n"
            f"X-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode("utf-8", "surrogateescape")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(envelope_headers)
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.rename(temp, final)
        log(
            f"message {n} from=<{envelope.mail_from}> "
            f"to=<{','.join(envelope.rcpt_tos)}> "
            f"subject={header_only(raw, 'Subject')!r} bytes={len(raw)} file={name}"
        )
        return "250 OK: message stored"


def accept_any_login(server, session, envelope, mechanism, auth_data):
    """Dev senders may be configured with EMAIL_HOST_USER/PASSWORD: let them in."""
    return AuthResult(success=True)


async def serve(host: str, port: int, directory: str) -> None:
    loop = asyncio.get_running_loop()
    handler = MaildirLikeHandler(directory)
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="statuswatch-smtp-catcher",  # no DNS lookup of our own name
            enable_SMTPUTF8=True,
            data_size_limit=10 * 1024 * 1024,
            auth_require_tls=False,
            authenticator=accept_any_login,
            loop=loop,
        ),
        host=host,
        port=port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log(f"listening on {host}:{port}, storing messages in {directory}")
    await stop.wait()
    server.close()
    await server.wait_closed()
    log("stopped")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2525)
    p.add_argument("--dir", required=True, help="where the .eml files go")
    args = p.parse_args()
    # aiosmtpd's own logger warns about its deprecated login_data on every AUTH; our
    # one line per message is the log.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    os.makedirs(args.dir, exist_ok=True)
    try:
        asyncio.run(serve(args.host, args.port, os.path.abspath(args.dir)))
    except OSError as e:  # e.g. the port is taken: say so in one line
        log(f"cannot listen on {args.host}:{args.port}: {e.strerror}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
