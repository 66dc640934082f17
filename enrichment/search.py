"""Web search for a prospect's website: one small interface, Brave Search behind it.

Brave's Web Search API is a plain JSON GET with a subscription-token header, which
keeps the client small and lets tests and the demo stand in a loopback server.
Search is off (`get_search_provider()` returns None) when no key is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from enrichment.providers import Provider, ProviderRejected, ProviderUnavailable


class SearchUnavailable(Exception):
    """Search could not answer; the finder records it and goes on without."""


@dataclass(frozen=True)
class SearchHit:
    url: str
    title: str
    snippet: str


class SearchProvider(Protocol):
    def search(self, query: str) -> list[SearchHit]:
        """Organic web results for `query`, best first."""


class BraveSearch(Provider):
    name = "brave-search"

    def search(self, query: str) -> list[SearchHit]:
        try:
            response = self.get(
                "/web/search",
                params={"q": query, "count": 10},
                headers={"X-Subscription-Token": self.api_key, "Accept": "application/json"},
            )
            results = response.json().get("web", {}).get("results", [])
        except (ProviderUnavailable, ProviderRejected) as exc:
            raise SearchUnavailable(str(exc)) from exc
        except (ValueError, AttributeError) as exc:
            raise SearchUnavailable(f"{self.name}: unreadable answer") from exc
        return [
            SearchHit(url=r["url"], title=r.get("title", ""), snippet=r.get("description", ""))
            for r in results
            if isinstance(r, dict) and str(r.get("url", "")).startswith(("http://", "https://"))
        ]


def get_search_provider() -> SearchProvider | None:
    if not settings.SEARCH_API_KEY:
        return None
    return BraveSearch(
        base_url=settings.SEARCH_BASE_URL, api_key=settings.SEARCH_API_KEY, rate_per_second=1.0
    )
