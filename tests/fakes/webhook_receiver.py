"""A loopback webhook receiver: records each POST and answers from a script.

receiver = WebhookReceiver().start()
receiver.answers = [500, 200]   # then 200 for ever; "hang" waits past the timeout,
                                 # "drip" sends its headers a byte at a time, "flood"
                                 # answers 200 with an endless body
receiver.sent_bytes              # what the receiver managed to write in its answers
receiver.received                # [(headers, raw body)], in order
receiver.got(2, timeout=10)      # wait for two requests
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

from tests.fakes.loopback import LoopbackHTTPServer


class WebhookReceiver(LoopbackHTTPServer):
    path = "/hooks/jengu"

    def __init__(self) -> None:
        self.answers: list[int | str] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._arrived = threading.Condition()
        self._release = threading.Event()
        self.sent_bytes = 0
        super().__init__()

    def stop(self) -> None:
        self._release.set()
        super().stop()

    def got(self, count: int, timeout: float = 15.0) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def _next_answer(self) -> int | str:
        return self.answers.pop(0) if self.answers else 200

    def _record(self, headers: dict[str, str], body: bytes) -> int | str:
        with self._arrived:
            self.received.append((headers, body))
            answer = self._next_answer()
            self._arrived.notify_all()
        return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = receiver._record(dict(self.headers.items()), body)
                if answer == "hang":
                    receiver._release.wait(30)
                    return
                if answer in ("drip", "flood"):
                    self._stream(answer)
                    return
                self.send_response(int(answer))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def _stream(self, answer: str) -> None:
                # Each write is small enough that every socket read on the other side
                # succeeds well within a per-operation timeout.
                head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 200
                chunks = [head[i : i + 1] for i in range(len(head))]
                if answer == "flood":
                    chunks = [b"HTTP/1.1 200 OK\r\n\r\n"] + [b"x" * 65536] * 4096
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        receiver.sent_bytes += len(chunk)
                        if answer == "drip":
                            time.sleep(0.05)
                except OSError:
                    pass  # the client hung up: that is what the test wants

            def log_message(self, *args: object) -> None:
                pass

        return Handler
