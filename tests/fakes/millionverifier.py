"""A loopback stand-in for MillionVerifier's single-address API (`GET /api/v3/`).

    mv = FakeMillionVerifier().start()
    mv.results["ana@casaazul.pt"] = "ok"      # per address; default "ok"
    mv.behave("rate_limit", retry_after="30")  # or "error" (500), "hang", "ok"
    mv.behave("error", times=2)                # two 500s, then back to "ok"
    mv.calls                                   # addresses asked, in order

It checks the key like the real API (an unknown key answers 200 with an `error`
field), so tests also see that the key travels and never leaks elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.fakes.loopback import LoopbackHTTPServer

API_KEY = "mv-test-key"
RESULT_CODES = {"ok": 1, "catch_all": 2, "unknown": 3, "error": 4, "disposable": 5, "invalid": 6}


class FakeMillionVerifier(LoopbackHTTPServer):
    path = ""

    def __init__(self) -> None:
        self.results: dict[str, str] = {}
        self.calls: list[str] = []
        self.mode = "ok"
        self.retry_after: str | None = None
        self.times: int | None = None
        self.released = threading.Event()
        super().__init__()

    def stop(self) -> None:
        self.released.set()
        super().stop()

    def behave(
        self, mode: str, *, retry_after: str | None = None, times: int | None = None
    ) -> None:
        self.mode, self.retry_after, self.times = mode, retry_after, times

    def answer(self, query: dict[str, str]) -> tuple[int, dict, dict]:
        """(status, headers, body) for one request, after the behaviour is applied."""
        if self.times is not None:
            if self.times <= 0:
                self.mode, self.times = "ok", None
            else:
                self.times -= 1
        if self.mode == "rate_limit":
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return 429, headers, {"error": "Too many requests"}
        if self.mode == "error":
            return 500, {}, {"error": "internal"}
        if self.mode == "hang":
            self.released.wait(10)
        if query.get("api") != API_KEY:
            return 200, {}, {"error": "Invalid API key", "result": "error", "resultcode": 4}
        email = query.get("email", "")
        result = self.results.get(email, "ok")
        return 200, {}, {
            "email": email, "quality": "good" if result == "ok" else "bad", "result": result,
            "resultcode": RESULT_CODES[result], "subresult": result, "free": False,
            "role": email.startswith(("info@", "sales@")), "error": "",
        }  # fmt: skip

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path.rstrip("/") != "/api/v3":
                    self.send_error(404)
                    return
                fake.calls.append(query.get("email", ""))
                status, headers, body = fake.answer(query)
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up waiting
                    self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler
