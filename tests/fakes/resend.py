"""A loopback stand-in for Resend's send API (`POST /emails`), for anymail's Resend backend.

    resend = FakeResend().start()          # settings.RESEND_API_URL = resend.url
    resend.fail["re_key_a"] = (500, "application_error")   # answers for one API key
    resend.drop = True                     # read the request, close without answering
    resend.sent                            # [(api key, JSON payload)] of accepted e-mails

Unknown keys get 403 like the real API, so a test also sees which key travelled.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler

from tests.fakes.loopback import LoopbackHTTPServer


class FakeResend(LoopbackHTTPServer):
    def __init__(self, *, keys: set[str]) -> None:
        self.keys = keys
        self.fail: dict[str, tuple[int, str]] = {}
        self.drop = False
        self.sent: list[tuple[str, dict]] = []
        self.requests = 0
        self._lock = threading.Lock()
        super().__init__()

    def answer(self, key: str, payload: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests += 1
            if key not in self.keys:
                return 403, {"statusCode": 403, "name": "invalid_api_key", "message": "bad key"}
            if key in self.fail:
                status, name = self.fail[key]
                return status, {"statusCode": status, "name": name, "message": name}
            self.sent.append((key, payload))
            return 200, {"id": str(uuid.uuid4())}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if fake.drop:
                    self.close_connection = True
                    return  # the request arrived; the client never hears back
                key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                status, answer = (
                    fake.answer(key, json.loads(body))
                    if self.path == "/emails"
                    else (404, {"statusCode": 404, "name": "not_found", "message": self.path})
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
