"""Loopback stand-ins for the Grok (OpenAI-style) and Anthropic HTTP APIs.

Each fake is a real HTTP server on 127.0.0.1 (port 0) that records every request
and answers according to a behaviour you set, per API key if you like:

    grok = FakeLLMServer("openai").start()
    grok.behave("error")                 # every key: HTTP 500
    grok.behave("ok", key="key-2")       # but key-2 answers
    grok.requests_for("key-1")           # how many requests key-1 made

Behaviours: "ok" (a valid {"subject","body"} answer, or `answer=` text),
"error" (500), "rate_limit" (429 with `retry_after`), "unauthorized" (401),
"hang" (no answer until the server stops), "garbage" (200 with non-JSON content),
"throttle" (answers like "ok" up to `per_second` requests in any one second, and
beyond that 429 with `retry_after`, as the real APIs' own rate limiters do).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fakes.loopback import LoopbackHTTPServer

DEFAULT_ANSWER = {
    "subject": "Quick idea for your front desk",
    "body": "Hello Anna,\n\nI noticed your guests book mostly by phone. We help small hotels "
    "answer those requests by e-mail in minutes. Would a short example help?\n\nBest,\nSam",
}


@dataclass
class Behaviour:
    mode: str = "ok"
    answer: str = json.dumps(DEFAULT_ANSWER)
    retry_after: str | None = None
    per_second: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    key: str
    path: str
    body: dict


class FakeLLMServer(LoopbackHTTPServer):
    """protocol: "openai" (Grok chat completions) or "anthropic" (messages).

    `url` is the base URL: XAI_BASE_URL for "openai", ANTHROPIC_BASE_URL for "anthropic".
    """

    def __init__(self, protocol: str) -> None:
        if protocol not in ("openai", "anthropic"):
            raise ValueError(protocol)
        self.protocol = protocol
        self.path = "/v1" if protocol == "openai" else ""
        self.requests: list[RecordedRequest] = []
        self._default = Behaviour()
        self._per_key: dict[str, Behaviour] = {}
        self._recent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()
        super().__init__()

    # --- control ---------------------------------------------------------------
    def stop(self) -> None:
        self._released.set()  # let hanging requests finish so shutdown is quick
        super().stop()

    def behave(
        self,
        mode: str,
        *,
        key: str | None = None,
        answer: dict | str | None = None,
        retry_after: float | str | None = None,
        per_second: int = 0,
    ) -> None:
        """Set how requests (all, or those with API key `key`) are answered."""
        text = json.dumps(answer) if isinstance(answer, dict) else answer
        behaviour = Behaviour(
            mode=mode,
            answer=text if text is not None else json.dumps(DEFAULT_ANSWER),
            retry_after=None if retry_after is None else str(retry_after),
            per_second=per_second,
        )
        with self._lock:
            if key is None:
                self._default, self._per_key = behaviour, {}
            else:
                self._per_key[key] = behaviour

    def requests_for(self, key: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if key is None or r.key == key)

    def _over_limit(self, key: str, per_second: int) -> bool:
        """A sliding one-second window per key: True when this request exceeds it."""
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(key, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= per_second:
                return True
            recent.append(now)
            return False

    # --- serving ---------------------------------------------------------------
    def _behaviour_for(self, key: str) -> Behaviour:
        with self._lock:
            return self._per_key.get(key, self._default)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _success_body(self, text: str) -> dict:
        if self.protocol == "openai":
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 120, "completion_tokens": 60, "total_tokens": 180},
            }
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "usage": {"input_tokens": 110, "output_tokens": 55},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        expected_path = "/v1/chat/completions" if self.protocol == "openai" else "/v1/messages"

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _api_key(self) -> str:
                if fake.protocol == "openai":
                    return self.headers.get("Authorization", "").removeprefix("Bearer ")
                return self.headers.get("x-api-key", "")

            def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                key = self._api_key()
                fake._record(RecordedRequest(key=key, path=self.path, body=body))
                if self.path != expected_path:
                    return self._send(404, b'{"error": "not found"}')
                behaviour = fake._behaviour_for(key)
                if behaviour.mode == "hang":
                    fake._released.wait(30)
                    return self._send(504, b"{}")
                if behaviour.mode == "error":
                    return self._send(500, b'{"error": "internal"}')
                if behaviour.mode == "unauthorized":
                    return self._send(401, b'{"error": "invalid api key"}')
                throttled = behaviour.mode == "throttle" and fake._over_limit(
                    key, behaviour.per_second
                )
                if behaviour.mode == "rate_limit" or throttled:
                    headers = (
                        {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
                    )
                    return self._send(429, b'{"error": "rate limited"}', headers)
                text = "<html>oops" if behaviour.mode == "garbage" else behaviour.answer
                return self._send(200, json.dumps(fake._success_body(text)).encode())

        return Handler


@pytest.fixture
def fake_grok():
    """A fake xAI endpoint (point XAI_BASE_URL at `.url`)."""
    server = FakeLLMServer("openai").start()
    yield server
    server.stop()


@pytest.fixture
def fake_claude():
    """A fake Anthropic endpoint (point ANTHROPIC_BASE_URL at `.url`)."""
    server = FakeLLMServer("anthropic").start()
    yield server
    server.stop()


def main() -> None:
    """`python -m tests.fakes.llm`: run both fakes for a local demo and print the settings."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--mode", default="ok", help="ok, error, rate_limit, hang, garbage")
    args = parser.parse_args()
    grok, claude = FakeLLMServer("openai").start(), FakeLLMServer("anthropic").start()
    for server in (grok, claude):
        server.behave(args.mode, retry_after=30)
    print(f"XAI_API_KEYS=demo-key\nXAI_BASE_URL={grok.url}")
    print(f"ANTHROPIC_API_KEY=demo-key\nANTHROPIC_BASE_URL={claude.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        grok.stop()
        claude.stop()


if __name__ == "__main__":
    main()
