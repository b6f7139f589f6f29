"""An HTTP server on 127.0.0.1 for the webhook sink's tests (standard library only).

Picks a free port and prints it on one line once it listens; exits 0 on SIGTERM.
Before it answers, appends one JSON line per request to DIR/requests.jsonl:
  {"method": ..., "path": ..., "version": ..., "headers": [[name, value], ...],
   "body_base64": ..., "signature_valid": true | false | null}
signature_valid is null without --secret-file; otherwise whether X-Samverkan-Signature is
"sha256=" and the hex HMAC-SHA256 of the body bytes under the file's bytes (trailing line
breaks stripped), checked with hmac.compare_digest.

Answers by path (the query is ignored):
  /status/NNN  NNN with a short text body; 429 and 503 add Retry-After: 120, 3xx a Location
  /hang        records the request and never answers (until the server stops)
  /big         200 with a 1 MiB body
  otherwise    200 {"ok": true}
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        sys.stderr.write("%s\n" % (format % args))

    def do_POST(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def handle_any(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        valid = None
        if self.server.secret is not None:
            given = self.headers.get("X-Samverkan-Signature", "")
            expected = "sha256=" + hmac.new(self.server.secret, body, hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(given, expected)
        self.server.record(dict(
            method=self.command, path=self.path, version=self.request_version,
            headers=[[k, v] for k, v in self.headers.items()],
            body_base64=base64.b64encode(body).decode(), signature_valid=valid))

        path = self.path.split("?", 1)[0]
        if path == "/hang":
            self.server.stopping.wait()
            return
        if path.startswith("/status/"):
            code = int(path[len("/status/"):])
            text = ("status %d from the test server\r\n\tsecond line\n" % code).encode()
            extra = []
            if code in (429, 503):
                extra.append(("Retry-After", "120"))
            if 300 <= code < 400:
                extra.append(("Location", "http://127.0.0.1:1/elsewhere?token=redirected"))
            self.answer(code, text, "text/plain; charset=utf-8", extra)
        elif path == "/big":
            self.answer(200, b"x" * (1 << 20), "application/octet-stream")
        else:
            self.answer(200, b'{"ok": true}\n', "application/json")

    def answer(self, code, body, content_type, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory, secret):
        super().__init__(("127.0.0.1", 0), Handler)
        self.directory = directory
        self.secret = secret
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def record(self, request):
        with self.lock, open(os.path.join(self.directory, "requests.jsonl"), "a") as f:
            f.write(json.dumps(request) + "\n")


def main():
    # A Swift test starts this from a thread that blocks signals, and a child inherits the
    # mask: without this, SIGTERM would stay pending and the server would never stop.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--secret-file")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()

    secret = None
    if args.secret_file:
        with open(args.secret_file, "rb") as f:
            secret = f.read().rstrip(b"\r\n")

    server = Server(args.directory, secret)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)

    def stop(*_):
        server.stopping.set()
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
