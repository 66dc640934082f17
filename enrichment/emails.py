"""Finding a prospect's e-mail addresses on its own website, and ranking them.

The crawl reads the home page and the pages its links (menu or footer) call
contact / imprint / about / team in several languages, bounded by
`ENRICHMENT_MAX_PAGES` and the fetcher's byte and time caps; when those pages show
no address of the business, it tries the paths where sites usually keep one
(`/kontakt`, `/contact`, `/impressum`, `/contact-us`). `enrichment.addresses` reads
the addresses however they are written; `enrichment.ownership` keeps only the
business's own and lists the others as rejected with the reason. A page that cannot
be fetched or read is recorded with its reason and the crawl goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from django.conf import settings

from enrichment.addresses import Found, addresses_in
from enrichment.fetch import Fetcher, FetchError
from enrichment.links import FALLBACK_PATHS, contact_links
from enrichment.names import tokens, word_set
from enrichment.ownership import agency_credit, named_after, on_site, third_party_reason
from enrichment.pages import PageUnreadable, ParsedPage, parse_page
from enrichment.website import Site

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
# An address only named after the business (not on its site's domain) ranks a little
# lower than the same kind on the domain, still above a guessed pattern.
NAMED_PENALTY = 5


@dataclass
class EmailSearch:
    candidates: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    pages: list[dict] = field(default_factory=list)


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


@dataclass
class Judge:
    """Sorts the addresses of one site into candidates and rejections."""

    site_domain: str
    business_name: str
    contact_name: str
    found: dict[str, dict] = field(default_factory=dict)
    rejected: dict[str, dict] = field(default_factory=dict)

    def consider(self, item: Found, page: str) -> None:
        address = item.address
        if address in self.found or address in self.rejected:
            return
        reason, weak = self.verdict(item)
        if reason:
            self.rejected[address] = {"email": address, "page": page, "reason": reason}
            return
        local = address.partition("@")[0]
        entry = candidate(address, classify(local, self.contact_name), item.how, page)
        if weak:
            entry["score"] -= NAMED_PENALTY
            entry["owner"] = "named after the business"
        self.found[address] = entry

    def verdict(self, item: Found) -> tuple[str, bool]:
        """(why it is rejected or "", whether only its name ties it to the business)."""
        local, _, domain = item.address.partition("@")
        if NO_REPLY_RE.match(local):
            return "no-reply address", False
        third_party = third_party_reason(item.address)
        if third_party:
            return third_party, False
        if on_site(domain, self.site_domain):
            return "", False
        if not named_after(item.address, self.business_name):
            return f"not on {self.site_domain}", False
        if agency_credit(item.context):
            return "web agency credit", False
        return "", True

    def has_own_address(self) -> bool:
        return any(c["kind"] != "avoid" for c in self.found.values())


class EmailFinder:
    def __init__(self, *, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    def find(
        self, *, site: Site | None, contact_name: str, provided: str = "", business_name: str = ""
    ) -> EmailSearch:
        result = EmailSearch()
        found: dict[str, dict] = {}
        if provided:
            found[provided] = candidate(provided, "provided", "provided")
        if site is not None and site.parsed is not None:
            judge = Judge(site.domain, business_name, contact_name, found=found)
            self.read_site(site, judge, result)
            for guess in pattern_guesses(contact_name, site.domain):
                found.setdefault(guess, candidate(guess, "guess", "pattern"))
            result.rejected = list(judge.rejected.values())
        result.candidates = sorted(found.values(), key=lambda c: -c["score"])
        return result

    def read_site(self, site: Site, judge: Judge, result: EmailSearch) -> None:
        budget = settings.ENRICHMENT_MAX_PAGES - 1
        self.read(site.url, site.parsed, judge, result)
        linked = contact_links(site.parsed, site.url, site.domain)[:budget]
        for url in linked:
            self.read(url, self.visit(url, result), judge, result)
        if judge.has_own_address():
            return
        tried = {site.url.rstrip("/"), *(url.rstrip("/") for url in linked)}
        fallbacks = [urljoin(site.url, path) for path in FALLBACK_PATHS]
        for url in [u for u in fallbacks if u.rstrip("/") not in tried][: budget - len(linked)]:
            self.read(url, self.visit(url, result), judge, result)
            if judge.has_own_address():
                return

    def visit(self, url: str, result: EmailSearch) -> ParsedPage | None:
        try:
            return parse_page(self.fetcher.get(url).text)
        except FetchError as exc:
            outcome = f"{exc.reason}: {exc.detail}"
        except PageUnreadable as exc:
            outcome = f"unreadable: {exc}"
        result.pages.append({"url": url, "outcome": outcome[:300]})
        return None

    @staticmethod
    def read(url: str, parsed: ParsedPage | None, judge: Judge, result: EmailSearch) -> None:
        if parsed is None:
            return
        result.pages.append({"url": url, "outcome": "read"})
        for item in addresses_in(parsed):
            judge.consider(item, url)


def candidate(email: str, kind: str, source: str, page: str = "") -> dict:
    return {"email": email, "kind": kind, "score": SCORES[kind], "source": source, "page": page}
