"""A real SMTP server on loopback (aiosmtpd) standing in for inboxes' mail servers.

It records every accepted message and can be told to misbehave:
- `refuse_mail = True`: answer 451 to MAIL FROM (a server having trouble);
- `bounce = {"a@x.example"}`: answer 550 to RCPT for those addresses (hard bounce);
- `rcpt_replies = {"a@x.example": "550 5.7.515 ..."}`: answer RCPT for those addresses
  with exactly that reply (a receiver refusing our sender, say);
- `drop_during_data = True`: close the connection after receiving DATA, before
  replying (the e-mail arrived, the sender cannot know: the uncertain case);
- `data_delay = seconds`: take that long to accept each message (as real servers
  do while they scan and store it);
- `on_command = fn`: `fn("MAIL" | "RCPT" | "DATA")` runs before each answer (a test
  injects a fault elsewhere at that exact step);
- `stop()`: nothing listens any more (connection refused); `start()` listens again
  on the same port.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    # aiosmtpd's readiness check connects to the configured port, so port 0 fails.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message
    at: float = field(default_factory=time.time)  # when it was accepted (epoch seconds)
    raw: bytes = b""  # the bytes as received (for signature checks)


@dataclass
class SmtpSink:
    refuse_mail: bool = False
    drop_during_data: bool = False
    bounce: set[str] = field(default_factory=set)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_delay: float = 0.0
    on_command: Callable[[str], None] | None = None
    messages: list[Received] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    def _notify(self, command: str) -> None:
        if self.on_command is not None:
            self.on_command(command)

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
        self._notify("MAIL")
        if self.refuse_mail:
            return "451 4.3.0 try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        self._notify("RCPT")
        if address.lower() in self.bounce:
            return "550 5.1.1 no such user"
        if address.lower() in self.rcpt_replies:
            return self.rcpt_replies[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self._notify("DATA")
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        raw = envelope.original_content or envelope.content
        received = Received(
            envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(raw), raw=raw
        )
        with self._lock:
            self.messages.append(received)
        if self.drop_during_data:
            server.transport.close()
        return "250 2.0.0 accepted"

    def start(self) -> SmtpSink:
        self.port = self.port or free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def count(self) -> int:
        with self._lock:
            return len(self.messages)
