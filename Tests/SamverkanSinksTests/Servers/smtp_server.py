"""An SMTP server on 127.0.0.1 for the email sink's tests (aiosmtpd under /usr/bin/python3).

Picks a free port and prints it on one line once it listens; exits 0 on SIGTERM.
Stores each message's bytes exactly as received (after un-dot-stuffing) as DIR/N.eml and
appends one JSON line per event to DIR/events.jsonl:
  {"event": "rcpt", "address": ..., "code": ...}
  {"event": "auth", "mechanism": ..., "login": ..., "ok": ...}
  {"event": "message", "file": ..., "mail_from": ..., "rcpt_tos": [...], "tls": ..., "login": ...}

--starttls-injection: not aiosmtpd but a stub that answers STARTTLS with 220 and a forged
reply in the same write, as a man in the middle would.

Recipients: reject* -> 550, tempfail* -> 451 always, flaky* -> 451 for the first
--flaky-count RCPTs of that address, then accepted; any other address is accepted.
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Recorder:
    def __init__(self, directory, flaky_count):
        self.directory = directory
        self.flaky_count = flaky_count
        self.flaky_seen = {}
        self.count = 0

    def log(self, **event):
        with open(os.path.join(self.directory, "events.jsonl"), "a") as f:
            f.write(json.dumps(event) + "\n")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            code = "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
        elif address.startswith("tempfail"):
            code = "451 4.3.0 <%s>: try again later" % address
        elif address.startswith("flaky") and self.flaky_seen.get(address, 0) < self.flaky_count:
            self.flaky_seen[address] = self.flaky_seen.get(address, 0) + 1
            code = "451 4.7.1 greylisted, try again later"
        else:
            envelope.rcpt_tos.append(address)
            code = "250 OK"
        self.log(event="rcpt", address=address, code=int(code[:3]))
        return code

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.directory, "%04d.eml" % self.count)
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.replace(name + ".tmp", name)
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        login = session.auth_data.login.decode() if session.auth_data is not None else None
        self.log(event="message", file=name, mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos,
                 tls=tls, login=login)
        return "250 2.0.0 Ok: queued as %04d" % self.count


class InjectingServer(asyncio.Protocol):
    """Says yes to STARTTLS and, in the same write, a forged plaintext reply (CVE-2011-0411)."""

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"220 mx.test ESMTP\r\n")

    def data_received(self, data):
        for line in data.split(b"\r\n"):
            command = line.upper()
            if command.startswith(b"EHLO"):
                self.transport.write(b"250-mx.test\r\n250 STARTTLS\r\n")
            elif command == b"STARTTLS":
                self.transport.write(b"220 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n")
            elif command == b"QUIT":
                self.transport.write(b"221 bye\r\n")
                self.transport.close()


def main():
    # A Swift test starts this from a thread that blocks signals, and a child inherits the
    # mask: without this, SIGTERM would stay pending and the server would never stop.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--flaky-count", type=int, default=2)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth-user")
    parser.add_argument("--auth-password-file")
    parser.add_argument("--auth-mechanisms", default="PLAIN,LOGIN")
    parser.add_argument("--starttls-injection", action="store_true")
    args = parser.parse_args()

    recorder = Recorder(args.directory, args.flaky_count)
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)

    password = None
    if args.auth_password_file:
        with open(args.auth_password_file, "rb") as f:
            password = f.read().rstrip(b"\r\n")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode() == args.auth_user and auth_data.password == password)
        recorder.log(event="auth", mechanism=mechanism, login=auth_data.login.decode(), ok=ok)
        # handled=False: aiosmtpd then answers 535 itself on failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    offered = set(args.auth_mechanisms.split(","))
    options = dict(enable_SMTPUTF8=False, hostname="mx.test")
    if args.auth_user:
        options.update(authenticator=authenticator, auth_required=True,
                       auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m not in offered])
    if args.implicit_tls:
        # The connection is TLS from the first byte; aiosmtpd only knows STARTTLS as TLS.
        options.update(auth_require_tls=False)
    elif context is not None:
        options.update(tls_context=context, require_starttls=args.require_starttls)

    async def serve():
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        if args.starttls_injection:
            server = await loop.create_server(InjectingServer, "127.0.0.1", 0)
        else:
            server = await loop.create_server(
                lambda: SMTP(recorder, **options), "127.0.0.1", 0,
                ssl=context if args.implicit_tls else None)
        print(server.sockets[0].getsockname()[1], flush=True)
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(serve())


if __name__ == "__main__":
    sys.exit(main())
