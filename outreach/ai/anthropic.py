"""Anthropic Claude through the Messages API."""

from __future__ import annotations

from django.conf import settings

from outreach.ai.base import AIRequest, Answer, Provider, RemoteProvider, post_json
from outreach.ai.validation import InvalidAnswer

ANTHROPIC_VERSION = "2023-06-01"


class ClaudeProvider(RemoteProvider):
    name = "claude"

    def __init__(self, *, api_key: str, base_url: str, model: str) -> None:
        self.model = model
        self._api_key = api_key
        self._url = f"{base_url}/v1/messages"

    def complete(self, request: AIRequest, *, timeout: float) -> Answer:
        data = post_json(
            self._url,
            headers={"x-api-key": self._api_key, "anthropic-version": ANTHROPIC_VERSION},
            payload={
                "model": self.model,
                "system": request.system,
                "messages": [{"role": "user", "content": request.prompt}],
                "max_tokens": request.max_tokens,
            },
            timeout=timeout,
        )
        content = data.get("content")
        texts = [
            block.get("text", "")
            for block in content or []
            if isinstance(block, dict) and block.get("type") == "text"
        ]
        if not texts:
            raise InvalidAnswer("no text block in the response")
        usage = data.get("usage") or {}
        return Answer("".join(texts), usage.get("input_tokens"), usage.get("output_tokens"))


def claude_providers() -> list[Provider]:
    if not settings.ANTHROPIC_API_KEY:
        return []
    return [
        ClaudeProvider(
            api_key=settings.ANTHROPIC_API_KEY,
            base_url=settings.ANTHROPIC_BASE_URL,
            model=settings.ANTHROPIC_MODEL,
        )
    ]
