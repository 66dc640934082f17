"""Finding a prospect's e-mail addresses on its own website, and ranking them.

The crawl reads the home page and the pages its links call contact / about /
imprint / team (in several languages), bounded by `ENRICHMENT_MAX_PAGES` and the
fetcher's byte and time caps. Addresses come from `mailto:` links, plain text,
common obfuscations ("info [at] hotel [dot] com"), HTML entities (decoded by the
parser) and Cloudflare's e-mail protection. Only addresses on the site's domain,
or clearly its own, are kept; the others are listed as rejected with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings

from enrichment.fetch import Fetcher, FetchError
from enrichment.names import tokens, word_set
from enrichment.pages import ParsedPage, parse_page
from enrichment.website import Site, host_of

EMAIL_RE = re.compile(
    r"[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}",
    re.IGNORECASE,
)
NOT_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "css", "js", "ico"})
AT_RE = re.compile(r"\s*[\[\(\{<]\s*(?:at|@|arroba|ät)\s*[\]\)\}>]\s*", re.IGNORECASE)
DOT_RE = re.compile(r"\s*[\[\(\{<]\s*(?:dot|punto|point|punkt|\.)\s*[\]\)\}>]\s*", re.IGNORECASE)
# "info at hotel dot com": only the full shape, so "meet us at the bar" is left alone.
SPELLED_RE = re.compile(
    r"\b([a-z0-9][a-z0-9._+-]*)\s+at\s+([a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)+)\b", re.IGNORECASE
)
SPELLED_DOT_RE = re.compile(r"\s+dot\s+", re.IGNORECASE)

CONTACT_LINK_WORDS = (
    "contact", "kontakt", "contacto", "contato", "contatti", "contattaci", "nous-contacter",
    "about", "ueber-uns", "uber-uns", "über uns", "quienes", "chi-siamo", "qui-sommes",
    "sobre", "impressum", "imprint", "legal", "mentions", "aviso", "team", "equipe",
    "equipo", "staff", "people",
)  # fmt: skip
ROLE_LOCALS = word_set(
    """reservations reservation reservas reserva reservierung prenotazioni booking bookings
    book sales ventas vendite vente frontdesk front.desk reception recepcion rezeption
    ricevimento manager gm director direccion direction events eventos evenements groups
    marketing concierge"""
)
GENERIC_LOCALS = word_set(
    """info information informacion contact contacto contato kontakt hello hallo hola ciao
    bonjour office mail email admin enquiries enquiry inquiries welcome hotel"""
)
AVOID_LOCALS = word_set(
    """postmaster abuse webmaster privacy dpo gdpr datenschutz jobs careers job rh hr press
    billing invoices invoice accounting facturacion"""
)
NO_REPLY_RE = re.compile(r"^(no-?reply|do-?not-?reply|mailer-daemon)", re.IGNORECASE)

SCORES = {"provided": 110, "personal_contact": 100, "personal": 90, "role": 70,
          "generic": 60, "guess": 50, "avoid": 20}  # fmt: skip


@dataclass
class EmailSearch:
    candidates: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    pages: list[dict] = field(default_factory=list)


def deobfuscate(text: str) -> str:
    text = AT_RE.sub("@", text)
    text = DOT_RE.sub(".", text)
    return SPELLED_RE.sub(lambda m: f"{m.group(1)}@{SPELLED_DOT_RE.sub('.', m.group(2))}", text)


def addresses_in(parsed: ParsedPage) -> list[tuple[str, str]]:
    """(address, how it was written) pairs, lower-cased, in page order."""
    found: list[tuple[str, str]] = []
    for link in parsed.links:
        if link.href.lower().startswith("mailto:"):
            target = unquote(link.href[7:]).split("?", 1)[0]
            found += [(a.strip(), "mailto") for a in target.split(",") if a.strip()]
    found += [(address, "cloudflare") for address in parsed.protected_emails]
    plain = {m.group(0) for m in EMAIL_RE.finditer(parsed.text)}
    found += [(a, "text") for a in plain]
    found += [
        (m.group(0), "obfuscated")
        for m in EMAIL_RE.finditer(deobfuscate(parsed.text))
        if m.group(0) not in plain
    ]
    return [
        (address.lower().strip(".").strip(), how)
        for address, how in found
        if EMAIL_RE.fullmatch(address.strip().strip("."))
        and address.rsplit(".", 1)[-1].lower() not in NOT_TLDS
    ]


def owned_by(email_domain: str, site_domain: str) -> bool:
    """The site's domain, a subdomain of it, or the same name under another TLD."""
    if email_domain == site_domain or email_domain.endswith("." + site_domain):
        return True
    site_label, email_label = site_domain.split(".")[0], email_domain.split(".")[0]
    return len(site_label) >= 4 and site_label == email_label


def classify(local: str, contact_name: str) -> str:
    name_words = {w for w in tokens(contact_name) if len(w) >= 2}
    local_words = set(tokens(local))
    if local in AVOID_LOCALS:
        return "avoid"
    if local in ROLE_LOCALS:
        return "role"
    if local in GENERIC_LOCALS:
        return "generic"
    if name_words and (local_words & name_words):
        return "personal_contact"
    return "personal"


def pattern_guesses(contact_name: str, domain: str) -> list[str]:
    words = tokens(contact_name)
    if len(words) < 2 or not domain:
        return [f"{words[0]}@{domain}"] if words and domain else []
    first, last = words[0], words[-1]
    return [f"{first}.{last}@{domain}", f"{first}@{domain}", f"{first[0]}{last}@{domain}"]


def contact_links(parsed: ParsedPage, base_url: str, site_domain: str) -> list[str]:
    """Same-site links that look like contact/about/imprint/team pages, best first."""
    ranked: list[tuple[int, str]] = []
    for link in parsed.links:
        url = urljoin(base_url, link.href).split("#", 1)[0]
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        host = host_of(url)
        if host != site_domain and not host.endswith("." + site_domain):
            continue
        haystack = f"{unquote(urlsplit(url).path)} {link.text}".lower()
        for position, word in enumerate(CONTACT_LINK_WORDS):
            if word in haystack:
                ranked.append((position, url))
                break
    seen: list[str] = []
    for _, url in sorted(ranked):
        if url not in seen and url.rstrip("/") != base_url.rstrip("/"):
            seen.append(url)
    return seen


class EmailFinder:
    def __init__(self, *, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    def find(self, *, site: Site | None, contact_name: str, provided: str = "") -> EmailSearch:
        result = EmailSearch()
        found: dict[str, dict] = {}
        if provided:
            found[provided] = candidate(provided, "provided", "provided")
        if site is not None and site.parsed is not None:
            for url, parsed in self.crawl(site, result):
                for address, how in addresses_in(parsed):
                    self.sort_out(address, how, url, site.domain, contact_name, found, result)
            for guess in pattern_guesses(contact_name, site.domain):
                found.setdefault(guess, candidate(guess, "guess", "pattern"))
        result.candidates = sorted(found.values(), key=lambda c: -c["score"])
        return result

    def crawl(self, site: Site, result: EmailSearch) -> list[tuple[str, ParsedPage]]:
        pages = [(site.url, site.parsed)]
        result.pages.append({"url": site.url, "outcome": "read"})
        links = contact_links(site.parsed, site.url, site.domain)
        for url in links[: settings.ENRICHMENT_MAX_PAGES - 1]:
            try:
                pages.append((url, parse_page(self.fetcher.get(url).text)))
                result.pages.append({"url": url, "outcome": "read"})
            except FetchError as exc:
                result.pages.append({"url": url, "outcome": f"{exc.reason}: {exc.detail}"[:300]})
        return pages

    @staticmethod
    def sort_out(
        address: str, how: str, url: str, site_domain: str, contact_name: str,
        found: dict[str, dict], result: EmailSearch,
    ) -> None:  # fmt: skip
        """Keep an address as a candidate, or list it as rejected with the reason."""
        local, _, domain = address.partition("@")
        if address in found or any(r["email"] == address for r in result.rejected):
            return
        if NO_REPLY_RE.match(local):
            result.rejected.append({"email": address, "page": url, "reason": "no-reply address"})
        elif not owned_by(domain, site_domain):
            reason = f"not on {site_domain}"
            result.rejected.append({"email": address, "page": url, "reason": reason})
        else:
            found[address] = candidate(address, classify(local, contact_name), how, url)


def candidate(email: str, kind: str, source: str, page: str = "") -> dict:
    return {"email": email, "kind": kind, "score": SCORES[kind], "source": source, "page": page}
