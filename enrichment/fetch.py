"""Fetch web pages of prospects without ever reaching what we should not.

Every connection goes through `jengu.netguard`'s guarded transport (no private
addresses, checked where the socket opens). Redirects are followed by hand so each
hop is bounded and recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

from jengu.dns import Resolver, get_resolver
from jengu.netguard import AddressPolicy, FetchError, GuardedTransport

HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})

__all__ = ["FetchError", "FetchedPage", "Fetcher", "check_url"]


@dataclass(frozen=True)
class FetchedPage:
    url: str
    status: int
    text: str
    redirects: list[str] = field(default_factory=list)
    truncated: bool = False


class Fetcher:
    """A small browser for one enrichment run: bounded pages, bytes and time."""

    def __init__(self, *, resolver: Resolver | None = None, deadline: float | None = None) -> None:
        self.max_bytes: int = settings.ENRICHMENT_MAX_BYTES
        self.max_redirects: int = settings.ENRICHMENT_MAX_REDIRECTS
        self.page_timeout: float = settings.ENRICHMENT_PAGE_TIMEOUT
        self.deadline = deadline
        self.client = httpx.Client(
            transport=GuardedTransport(
                resolver=resolver or get_resolver(), policy=AddressPolicy.from_settings()
            ),
            timeout=httpx.Timeout(
                settings.ENRICHMENT_READ_TIMEOUT, connect=settings.ENRICHMENT_CONNECT_TIMEOUT
            ),
            headers={
                "User-Agent": settings.ENRICHMENT_USER_AGENT,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Language": "en,*;q=0.5",
            },
            follow_redirects=False,
            trust_env=False,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.client.close()

    def get(self, url: str) -> FetchedPage:
        """Fetch an HTML page, following at most `max_redirects` checked hops."""
        redirects: list[str] = []
        current = check_url(url)
        for _ in range(self.max_redirects + 1):
            response = self._open(current)
            try:
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    redirects.append(current)
                    current = check_url(urljoin(current, response.headers["location"]))
                    continue
                return self._read_page(response, current, redirects)
            finally:
                response.close()
        raise FetchError("too_many_redirects", f"more than {self.max_redirects} from {url}")

    def _open(self, url: str) -> httpx.Response:
        self._check_time(url)
        try:
            return self.client.send(self.client.build_request("GET", url), stream=True)
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", url) from exc
        except httpx.HTTPError as exc:
            raise FetchError("connection", f"{url}: {type(exc).__name__}") from exc

    def _read_page(self, response: httpx.Response, url: str, redirects: list[str]) -> FetchedPage:
        if response.status_code >= 400:
            raise FetchError("http_status", f"{url} answered {response.status_code}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in HTML_TYPES:
            raise FetchError("not_html", f"{url} is {content_type or 'untyped'}")
        body, truncated = self._read_capped(response, url)
        encoding = response.charset_encoding or "utf-8"
        try:
            text = body.decode(encoding, errors="replace")
        except LookupError:
            text = body.decode("utf-8", errors="replace")
        return FetchedPage(
            url=url,
            status=response.status_code,
            text=text,
            redirects=redirects,
            truncated=truncated,
        )

    def _read_capped(self, response: httpx.Response, url: str) -> tuple[bytes, bool]:
        """Read at most `max_bytes`; a page that drips slowly is cut by wall-clock time."""
        page_deadline = time.monotonic() + self.page_timeout
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= self.max_bytes:
                    return b"".join(chunks)[: self.max_bytes], True
                if time.monotonic() > page_deadline:
                    raise FetchError("timeout", f"{url} still sending after {self.page_timeout}s")
                self._check_time(url)
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", url) from exc
        except httpx.HTTPError as exc:
            raise FetchError("connection", f"{url}: {type(exc).__name__}") from exc
        return b"".join(chunks), False

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def _check_time(self, url: str) -> None:
        if self.out_of_time():
            raise FetchError("time_budget", f"enrichment time budget spent before {url}")


def check_url(url: str) -> str:
    """Only absolute http(s) URLs without credentials are fetched."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a garbage port
    except ValueError as exc:
        raise FetchError("bad_url", repr(url)[:200]) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad_url", repr(url)[:200])
    if parts.username or parts.password:
        raise FetchError("bad_url", "URLs with credentials are not fetched")
    return parts.geturl()
