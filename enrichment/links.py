"""Which links of a page lead to where a business writes its address."""

from __future__ import annotations

from urllib.parse import unquote, urljoin, urlsplit

from enrichment.pages import ParsedPage

CONTACT_LINK_WORDS = (
    "contact", "kontakt", "contacto", "contato", "contatti", "contattaci", "nous-contacter",
    "get-in-touch", "impressum", "imprint", "legal", "mentions", "aviso", "note-legali",
    "about", "ueber-uns", "uber-uns", "über uns", "quienes", "chi-siamo", "qui-sommes",
    "sobre", "team", "equipe", "equipo", "staff", "people",
)  # fmt: skip
FALLBACK_PATHS = ("/kontakt", "/contact", "/impressum", "/contact-us")


def host_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def contact_links(parsed: ParsedPage, page_url: str, site_domain: str) -> list[str]:
    """Same-site links that look like contact/imprint/about/team pages, best first."""
    base_url = urljoin(page_url, parsed.base_href) if parsed.base_href else page_url
    ranked: list[tuple[int, str]] = []
    for link in parsed.links:
        try:
            url = urljoin(base_url, link.href).split("#", 1)[0]
            parts = urlsplit(url)
        except ValueError:  # "http://[oops/": a broken link is no way to a contact page
            continue
        if parts.scheme not in ("http", "https") or not _same_site(url, site_domain):
            continue
        haystack = f"{unquote(parts.path)} {link.text}".lower()
        for position, word in enumerate(CONTACT_LINK_WORDS):
            if word in haystack:
                ranked.append((position, url))
                break
    seen: list[str] = []
    for _, url in sorted(ranked, key=lambda pair: pair[0]):
        if url not in seen and url.rstrip("/") != page_url.rstrip("/"):
            seen.append(url)
    return seen


def _same_site(url: str, site_domain: str) -> bool:
    host = host_of(url)
    return host == site_domain or host.endswith("." + site_domain)
