"""Fetch web pages of prospects without ever reaching what we should not.

Every connection goes through `jengu.netguard`'s guarded transport (no private
addresses, checked where the socket opens). Redirects are followed by hand so each
hop is bounded and recorded. Each page, redirects included, runs inside a netguard
`deadline()`: the earlier of `ENRICHMENT_PAGE_TIMEOUT` from its start and the run's
deadline, which a server dripping headers or body a byte at a time cannot stretch.
Bodies are decoded (gzip, deflate, br) with the byte cap on the decoded size
(`enrichment.bodies`) and turned into text as browsers do (`enrichment.charsets`).
Every failure is a `FetchError` whose `reason` is a short code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx
from django.conf import settings

from enrichment.bodies import ACCEPT_ENCODING, read_body
from enrichment.charsets import decode_html
from jengu.dns import Resolver, get_resolver
from jengu.netguard import AddressPolicy, FetchError, GuardedTransport, check_url, deadline

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
    encoding: str = "utf-8"


class Fetcher:
    """A small browser for one enrichment run: bounded pages, bytes and time.

    Each URL is fetched at most once per run (the website finder and the address
    crawl often want the same contact page); its page or its error is remembered.
    """

    def __init__(self, *, resolver: Resolver | None = None, deadline: float | None = None) -> None:
        self.max_bytes: int = settings.ENRICHMENT_MAX_BYTES
        self.max_redirects: int = settings.ENRICHMENT_MAX_REDIRECTS
        self.page_timeout: float = settings.ENRICHMENT_PAGE_TIMEOUT
        self.deadline = deadline
        self.seen: dict[str, FetchedPage | FetchError] = {}
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
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            follow_redirects=False,
            trust_env=False,
            event_hooks={"response": [_vet_redirect]},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.client.close()

    def get(self, url: str) -> FetchedPage:
        """Fetch an HTML page, following at most `max_redirects` checked hops."""
        if url not in self.seen:
            try:
                self.seen[url] = self._get(url)
            except FetchError as exc:
                self.seen[url] = exc
        outcome = self.seen[url]
        if isinstance(outcome, FetchError):
            raise outcome
        return outcome

    def _get(self, url: str) -> FetchedPage:
        self._check_time(url)
        page_deadline = time.monotonic() + self.page_timeout
        if self.deadline is not None:
            page_deadline = min(page_deadline, self.deadline)
        with deadline(page_deadline):
            try:
                return self._follow(url)
            except httpx.TimeoutException as exc:
                raise self._timeout(url) from exc
            except httpx.HTTPError as exc:
                raise FetchError("connection", f"{url}: {type(exc).__name__}") from exc

    def _follow(self, url: str) -> FetchedPage:
        redirects: list[str] = []
        current = check_url(url)
        for _ in range(self.max_redirects + 1):
            response = self.client.send(self.client.build_request("GET", current), stream=True)
            try:
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    redirects.append(current)
                    current = check_url(_joined(current, response.headers["location"]))
                    continue
                return self._read_page(response, current, redirects)
            finally:
                response.close()
        raise FetchError("too_many_redirects", f"more than {self.max_redirects} from {url}")

    def _read_page(self, response: httpx.Response, url: str, redirects: list[str]) -> FetchedPage:
        if response.status_code >= 400:
            raise FetchError("http_status", f"{url} answered {response.status_code}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in HTML_TYPES:
            raise FetchError("not_html", f"{url} is {content_type or 'untyped'}")
        body = read_body(
            response.iter_raw(),
            content_encoding=response.headers.get("content-encoding", ""),
            max_bytes=self.max_bytes,
        )
        text, encoding = decode_html(body.content, header_charset=response.charset_encoding)
        return FetchedPage(
            url=url,
            status=response.status_code,
            text=text,
            redirects=redirects,
            truncated=body.truncated,
            encoding=encoding,
        )

    def _timeout(self, url: str) -> FetchError:
        if self.out_of_time():
            return FetchError("time_budget", f"enrichment time budget spent while reading {url}")
        return FetchError("timeout", f"{url} not done within {self.page_timeout}s")

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def _check_time(self, url: str) -> None:
        if self.out_of_time():
            raise FetchError("time_budget", f"enrichment time budget spent before {url}")


def _vet_redirect(response: httpx.Response) -> None:
    """Judge a redirect's Location ourselves, before httpx parses it for `next_request`
    (it would fail on `http://0177.0.0.1/` with a protocol error, hiding why)."""
    if response.has_redirect_location:
        check_url(_joined(str(response.request.url), response.headers["location"]))


def _joined(base: str, location: str) -> str:
    try:
        return urljoin(base, location)
    except ValueError as exc:  # "http://[oops/": urljoin parses what it joins
        raise FetchError("bad_url", f"redirect to {location[:200]!r}") from exc
