"""Finding a prospect's website: keep the one we have, else guess domains, else search.

A candidate only counts once its page is fetched and names the business in the title
or text. A guessed domain or a search hit must also name the business's city — on
the home page, in its structured data, or on one of its contact pages — because a
business's name alone is often shared ("Bellevue", "Krone") by one in another town,
whose address we must never take. What was tried, and why each candidate was kept or
dropped, is returned for the prospect's enrichment record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from crm.models import Prospect
from enrichment.fetch import FetchedPage, Fetcher, FetchError
from enrichment.links import contact_links, host_of
from enrichment.names import FREE_MAIL_DOMAINS, core_tokens, domain_labels, spellings, tokens
from enrichment.pages import PageUnreadable, ParsedPage, parse_page
from enrichment.search import SearchProvider, SearchUnavailable
from jengu.dns import DnsError, NoSuchDomain, Resolver

MIN_CONFIDENCE = 0.5
MAX_GUESSES = 16
PARKED_MARKERS = ("domain is for sale", "buy this domain", "domain may be for sale", "parked")
# Listings and social sites name the hotel too, but are not its website.
DIRECTORY_HOSTS = (
    "booking.com", "tripadvisor.", "expedia.", "hotels.com", "airbnb.", "agoda.",
    "trivago.", "kayak.", "facebook.com", "instagram.com", "linkedin.com", "yelp.",
    "google.", "wikipedia.org", "youtube.com", "x.com", "twitter.com", "tiktok.com",
)  # fmt: skip
COUNTRY_TLDS = {"GB": "co.uk", "UK": "co.uk"}
CITY_REQUIRED = frozenset({"guess", "search"})  # found by name alone: could be a namesake
CITY_PAGES = 2  # contact pages read to look for the city when the home page lacks it


@dataclass
class Site:
    url: str
    domain: str
    method: str  # provided | email_domain | guess | search
    confidence: float
    evidence: str
    page: FetchedPage | None = None
    parsed: ParsedPage | None = None


@dataclass
class WebsiteSearch:
    site: Site | None = None
    attempts: list[dict] = field(default_factory=list)

    def tried(self, url: str, method: str, outcome: str) -> None:
        self.attempts.append({"url": url, "method": method, "outcome": outcome[:300]})


def normalise_website(value: str) -> str:
    value = value.strip()
    if value and "://" not in value:
        value = "https://" + value
    return value


def page_words(parsed: ParsedPage) -> tuple[set[str], set[str]]:
    """(title words, other words) of a page, in both spellings of German umlauts."""
    text = f"{parsed.text[:50000]} {parsed.extra_text[:10000]}"
    return _words(parsed.title), _words(text)


def _words(text: str) -> set[str]:
    return {word for spelling in spellings(text) for word in tokens(spelling)}


def names_city(words: set[str], city: str) -> bool:
    return any(all(w in words for w in tokens(s)) for s in spellings(city) if tokens(s))


def page_confidence(parsed: ParsedPage, *, name: str, city: str) -> tuple[float, str]:
    """How sure we are that this page belongs to the business, and the evidence."""
    lowered = f"{parsed.title} {parsed.text[:20000]}".lower()
    if any(marker in lowered for marker in PARKED_MARKERS):
        return 0.0, "parked domain page"
    wanted = core_tokens(name)
    if not wanted:
        return 0.0, "business name has no usable words"
    title_words, text_words = page_words(parsed)
    in_title = sum(w in title_words for w in wanted) / len(wanted)
    in_text = sum(w in text_words for w in wanted) / len(wanted)
    city_seen = names_city(title_words | text_words, city)
    score = round(0.5 * in_title + 0.3 * in_text + 0.2 * city_seen, 2)
    city_said = "yes" if city_seen else "no"
    evidence = f"name in title {in_title:.0%}, in text {in_text:.0%}, city {city_said}"
    return score, evidence


def guess_domains(prospect: Prospect) -> list[str]:
    country = (prospect.country or "").upper()
    tlds = [COUNTRY_TLDS.get(country, country.lower())] if country else []
    tlds += [tld for tld in settings.ENRICHMENT_GUESS_TLDS if tld not in tlds]
    labels = domain_labels(prospect.business_name, prospect.city)
    return [f"{label}.{tld}" for tld in tlds for label in labels][:MAX_GUESSES]


class WebsiteFinder:
    def __init__(
        self, *, fetcher: Fetcher, resolver: Resolver, search: SearchProvider | None
    ) -> None:
        self.fetcher = fetcher
        self.resolver = resolver
        self.search = search

    def find(self, prospect: Prospect) -> WebsiteSearch:
        result = WebsiteSearch()
        if prospect.website:
            result.site = self.provided(prospect, result)
            if result.site:
                return result
        for step in (self.from_email_domain, self.from_guesses, self.from_search):
            result.site = step(prospect, result)
            if result.site:
                break
        return result

    def visit(self, url: str, method: str, result: WebsiteSearch) -> Site | None:
        try:
            page = self.fetcher.get(url)
            parsed = parse_page(page.text)
        except FetchError as exc:
            result.tried(url, method, f"{exc.reason}: {exc.detail}")
            return None
        except PageUnreadable as exc:
            result.tried(url, method, f"unreadable: {exc}")
            return None
        return Site(
            url=page.url,
            domain=host_of(page.url),
            method=method,
            confidence=0.0,
            evidence="",
            page=page,
            parsed=parsed,
        )

    def confirmed(
        self, site: Site | None, prospect: Prospect, result: WebsiteSearch
    ) -> Site | None:
        if site is None:
            return None
        site.confidence, site.evidence = page_confidence(
            site.parsed, name=prospect.business_name, city=prospect.city
        )
        keep = site.confidence >= MIN_CONFIDENCE
        if keep and self.city_missing(site, prospect):
            keep = False
            site.evidence += f"; the site never names {prospect.city}: another business?"
        verdict = "confirmed" if keep else "rejected"
        result.tried(site.url, site.method, f"{verdict}: {site.evidence}")
        return site if keep else None

    def city_missing(self, site: Site, prospect: Prospect) -> bool:
        """A site found by name alone that names no city of the prospect's, anywhere we look."""
        if site.method not in CITY_REQUIRED or not tokens(prospect.city):
            return False
        if names_city(set().union(*page_words(site.parsed)), prospect.city):
            return False
        for url in contact_links(site.parsed, site.url, site.domain)[:CITY_PAGES]:
            try:
                parsed = parse_page(self.fetcher.get(url).text)
            except (FetchError, PageUnreadable):
                continue
            if names_city(set().union(*page_words(parsed)), prospect.city):
                site.evidence += f"; city on {url}"
                return False
        return True

    def provided(self, prospect: Prospect, result: WebsiteSearch) -> Site | None:
        """A website the user gave is kept even if its page does not name the business."""
        url = normalise_website(prospect.website)
        site = self.visit(url, "provided", result)
        if site is None:
            return None
        site.confidence, site.evidence = page_confidence(
            site.parsed, name=prospect.business_name, city=prospect.city
        )
        site.confidence = 1.0
        result.tried(site.url, "provided", "kept: given with the prospect")
        return site

    def from_email_domain(self, prospect: Prospect, result: WebsiteSearch) -> Site | None:
        domain = prospect.email.rpartition("@")[2].lower() if prospect.email else ""
        if not domain or domain in FREE_MAIL_DOMAINS:
            return None
        return self.confirm_domain(domain, "email_domain", prospect, result)

    def from_guesses(self, prospect: Prospect, result: WebsiteSearch) -> Site | None:
        domains = guess_domains(prospect)
        if not domains:
            result.tried("", "guess", "no domain can be made from the business name")
        for domain in domains:
            if self.fetcher.out_of_time():  # DNS lookups are not bounded by the fetcher
                result.tried(domain, "guess", "time budget spent; stopped guessing")
                return None
            site = self.confirm_domain(domain, "guess", prospect, result)
            if site:
                return site
        result.tried("", "guess", f"none of {len(domains)} guessed domains confirmed")
        return None

    def confirm_domain(
        self, domain: str, method: str, prospect: Prospect, result: WebsiteSearch
    ) -> Site | None:
        if not self.resolves(domain, method, result):
            return None
        for template in settings.ENRICHMENT_GUESS_URL_TEMPLATES:
            site = self.visit(template.format(domain=domain), method, result)
            if self.confirmed(site, prospect, result):
                return site
        return None

    def resolves(self, domain: str, method: str, result: WebsiteSearch) -> bool:
        try:
            return bool(self.resolver.addresses(domain))
        except NoSuchDomain:
            return False
        except DnsError as exc:
            result.tried(domain, method, f"dns: {exc}")
            return False

    def from_search(self, prospect: Prospect, result: WebsiteSearch) -> Site | None:
        if self.search is None:
            result.tried("", "search", "off: no SEARCH_API_KEY")
            return None
        query = " ".join(filter(None, [prospect.business_name, prospect.city, prospect.country]))
        try:
            hits = self.search.search(query)
        except SearchUnavailable as exc:
            result.tried("", "search", f"unavailable: {exc}")
            return None
        for hit in hits[:5]:
            if any(marker in host_of(hit.url) for marker in DIRECTORY_HOSTS):
                result.tried(hit.url, "search", "skipped: directory or social site")
                continue
            site = self.confirmed(self.visit(hit.url, "search", result), prospect, result)
            if site:
                return site
        return None
