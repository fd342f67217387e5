"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, collecting what it receives.

`smtp_server` yields an `SmtpServer` with `.url` (put it in `Settings.smtp_url`),
`.messages` (each parsed with the modern email policy, so `get_body()`,
`iter_attachments()` and `get_content()` work) and `.envelopes` (SMTP sender and
recipients). aiosmtpd's `Controller` runs its own event loop in a thread, so the server
works whatever loop the test runs in; a message is in `.messages` before the client's
send returns, because the server answers 250 only after collecting it.

Import the fixture into `tests/conftest.py` (`from tests.smtp import smtp_server`).
"""

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: list[str]


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()

    def to(self, address: str) -> list[EmailMessage]:
        """The messages whose envelope included `address`."""
        with self._lock:
            return [
                message
                for message, envelope in zip(self.messages, self.envelopes, strict=True)
                if address in envelope.rcpt_tos
            ]


class _Collector:
    """aiosmtpd handler: parse and keep every message, accept it."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.server._lock:
            self.server.messages.append(message)
            self.server.envelopes.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (also handy as a "server is down" address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running local SMTP server for one test."""
    server = SmtpServer(host=HOST, port=free_port())
    controller = Controller(
        _Collector(server),
        hostname=HOST,
        port=server.port,
        enable_SMTPUTF8=True,
        ready_timeout=10,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
