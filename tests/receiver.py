"""A real HTTP receiver for webhooks, in a thread of the test process on 127.0.0.1.

It records every request (path, headers, body) and answers as the test says: a status
per attempt (`script`), a redirect, a long body, or holding the request until released.
"""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

HOST = "127.0.0.1"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    # Statuses for the next requests, in order; afterwards `default_status`.
    script: list[int] = field(default_factory=list)
    default_status: int = 204
    response_body: bytes = b""
    redirect_to: str | None = None
    # The first request whose body contains this is answered 500 (once).
    fail_once_containing: bytes | None = None
    # While set, a request is held until `release` is set (or 30 s pass).
    hold: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        with self.lock:
            status = self.script.pop(0) if self.script else self.default_status
            if self.fail_once_containing is not None and self.fail_once_containing in body:
                self.fail_once_containing = None
                status = 500
        headers: dict[str, str] = {}
        if self.redirect_to is not None:
            status = 302
            headers["Location"] = self.redirect_to
        return status, self.response_body, headers


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            receiver.arrived.set()
            if receiver.hold.is_set():
                receiver.release.wait(timeout=30)
            status, payload, headers = receiver.answer(body)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the worker hung up (cancelled, or read only 1 kB)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    """Import `receiver_fixture` into a test module to use the `receiver` fixture."""
    server = ThreadingHTTPServer((HOST, 0), BaseHTTPRequestHandler)
    state = Receiver(server=server)
    server.RequestHandlerClass = _handler(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
