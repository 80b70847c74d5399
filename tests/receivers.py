"""Real local receivers for notification tests: a webhook HTTP server and an SMTP server,
each on a free loopback port in a background thread, recording what they accepted."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.stack import free_port


class Webhook:
    def __init__(self):
        self.posts: list[dict] = []
        self.port = 0  # set when the server is bound
        self.requests = 0
        self.fail_next = 0  # answer this many requests with `fail_status` first
        self.fail_status = 500
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/slack"


@contextmanager
def webhook_receiver():
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            with hook._lock:
                hook.requests += 1
                failing = hook.fail_next > 0
                if failing:
                    hook.fail_next -= 1
                else:
                    hook.posts.append(body)
            self.send_response(hook.fail_status if failing else 200)
            self.end_headers()
            self.wfile.write(b"error" if failing else b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


class Mailbox:
    def __init__(self, port: int):
        self.port = port
        self.messages: list[Message] = []
        self.controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@nowhere.test"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


@contextmanager
def smtp_receiver(*, started: bool = True):
    """An aiosmtpd server; `started=False` reserves the port without listening yet."""
    box = Mailbox(free_port())
    if started:
        box.start()
    try:
        yield box
    finally:
        box.stop()
