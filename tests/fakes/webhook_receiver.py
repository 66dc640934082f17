"""A loopback webhook receiver: records each POST and answers from a script.

receiver = WebhookReceiver().start()
receiver.answers = [500, 200]   # then 200 for ever; "hang" waits past the timeout
receiver.received                # [(headers, raw body)], in order
receiver.got(2, timeout=10)      # wait for two requests
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler

from tests.fakes.loopback import LoopbackHTTPServer


class WebhookReceiver(LoopbackHTTPServer):
    path = "/hooks/jengu"

    def __init__(self) -> None:
        self.answers: list[int | str] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._arrived = threading.Condition()
        self._release = threading.Event()
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
                self.send_response(int(answer))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        return Handler
