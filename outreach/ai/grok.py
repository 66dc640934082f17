"""xAI Grok through its OpenAI-compatible chat completions endpoint."""

from __future__ import annotations

from django.conf import settings

from outreach.ai.base import AIRequest, Answer, Provider, RemoteProvider, post_json
from outreach.ai.validation import InvalidAnswer


class GrokProvider(RemoteProvider):
    """One xAI key. Each key is its own provider (`grok:1`, `grok:2`, …)."""

    def __init__(self, *, api_key: str, index: int, base_url: str, model: str) -> None:
        self.name = f"grok:{index}"
        self.model = model
        self._api_key = api_key
        self._url = f"{base_url}/chat/completions"

    def complete(self, request: AIRequest, *, timeout: float) -> Answer:
        data = post_json(
            self._url,
            headers={"Authorization": f"Bearer {self._api_key}"},
            payload={
                "model": self.model,
                "messages": [
                    {"role": "system", "content": request.system},
                    {"role": "user", "content": request.prompt},
                ],
                "response_format": {"type": "json_object"},
                "max_tokens": request.max_tokens,
            },
            timeout=timeout,
        )
        try:
            text = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise InvalidAnswer("no choices[0].message.content in the response") from None
        if not isinstance(text, str):
            raise InvalidAnswer("message content is not text")
        usage = data.get("usage") or {}
        return Answer(text, usage.get("prompt_tokens"), usage.get("completion_tokens"))


def grok_providers() -> list[Provider]:
    """One provider per key in XAI_API_KEYS, in order (the second key is fallback 1)."""
    return [
        GrokProvider(
            api_key=key, index=index, base_url=settings.XAI_BASE_URL, model=settings.XAI_MODEL
        )
        for index, key in enumerate(settings.XAI_API_KEYS, start=1)
        if key
    ]
