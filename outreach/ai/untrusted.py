"""Links, phone numbers, addresses and payment requests a draft may not bring in itself.

A model that read a hostile website (or a step that renders scraped facts) can be
talked into "call +1 555 0100", "pay to IBAN …" or "book at https://evil.example".
The only contact details an outgoing e-mail may carry are the campaign's own (in
the step template as written) and the prospect's own (their record: website,
domain, e-mail, phone). `draft_foreign_details` lists anything else; the composer
holds such a draft for a person to review instead of sending it.

Every pattern is bounded and scanned once, so a long draft costs linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from crm.models import Prospect
from outreach.ai.validation import Draft

_EMAIL = re.compile(
    r"[a-z0-9._%+-]{1,64}"
    r"(?:@|\s{0,3}[\[(]\s{0,3}at\s{0,3}[\])]\s{0,3})"
    r"(?:[a-z0-9-]{1,63}(?:\.|\s{0,3}[\[(]\s{0,3}dot\s{0,3}[\])]\s{0,3})){1,8}[a-z]{2,24}\b",
    re.IGNORECASE,
)
_LINK = re.compile(
    r"\b(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>\"'(){}\[\]|]{1,2000}", re.IGNORECASE
)
# A bare domain, which mail clients turn into a link too: hotel.example/book
_BARE_DOMAIN = re.compile(
    r"\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}[a-z]{2,24}\b(?:/[^\s<>\"'(){}|]{0,2000})?",
    re.IGNORECASE,
)
# Dates and year ranges have a phone number's digits: they are not one.
_DATE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b"
    r"|\b(?:19|20)\d{2} ?[-\u2013] ?(?:19|20)\d{2}\b"
)
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d \t().\-/]{5,24}\d(?!\w)")
_PHONE_DIGITS = (7, 15)
# A phone number matches one in the record when their last digits agree (the
# country code and trunk "0" are written one way or the other).
_PHONE_TAIL = 9
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")
_WALLET = re.compile(
    r"\b(?:0x[a-fA-F0-9]{40}|bc1[a-z0-9]{25,60}|[13][a-km-zA-HJ-NP-Z1-9]{25,34})\b"
)
_PAYMENT_WORDS = re.compile(
    r"\b(?:wire transfer|bank transfer|bank details|bank account|account number|routing number"
    r"|sort code|iban|swift code|bic code|western union|moneygram|gift ?cards?|bitcoin|btc"
    r"|ethereum|usdt|crypto(?:currency)? wallet|wallet address|paypal|venmo|zelle"
    r"|payment link|pay the invoice|overdue invoice|outstanding invoice)\b",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}>'\""


@dataclass(frozen=True)
class Allowed:
    """What a draft may contain: the step template's details and the prospect's."""

    urls: frozenset[str]  # normalised, exact
    hosts: frozenset[str]  # any link to these is fine (the prospect's own site)
    emails: frozenset[str]
    phones: frozenset[str]  # digits, last `_PHONE_TAIL`
    template_text: str  # lower-cased, for payment words the campaign itself uses


def _host(value: str) -> str:
    value = value.strip().lower()
    if "://" not in value:
        value = f"//{value}"
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _normal_url(url: str) -> str:
    host = _host(url)
    rest = url.split("://", 1)[-1].lower()
    path = rest[rest.find("/") :] if "/" in rest else ""
    return f"{host}{path}".rstrip("/")


def _normal_email(email: str) -> str:
    text = re.sub(r"\s*[\[(]\s*at\s*[\])]\s*", "@", email, flags=re.IGNORECASE)
    return re.sub(r"\s*[\[(]\s*dot\s*[\])]\s*", ".", text, flags=re.IGNORECASE).lower()


def _phone_key(number: str) -> str | None:
    digits = re.sub(r"\D", "", number)
    low, high = _PHONE_DIGITS
    return digits[-_PHONE_TAIL:] if low <= len(digits) <= high else None


@dataclass(frozen=True)
class _Found:
    urls: list[str]
    emails: list[str]
    phones: list[str]


def _scan(text: str) -> _Found:
    """Links first (an address can hide in one), then addresses, bare domains, phones."""
    urls = [m.group(0).rstrip(_TRAILING) for m in _LINK.finditer(text)]
    text = _LINK.sub(" ", text)
    emails = [m.group(0) for m in _EMAIL.finditer(text)]
    text = _EMAIL.sub(" ", text)
    urls += [m.group(0).rstrip(_TRAILING) for m in _BARE_DOMAIN.finditer(text)]
    text = _DATE.sub(" ", _BARE_DOMAIN.sub(" ", text))
    phones = [m.group(0).strip() for m in _PHONE.finditer(text) if _phone_key(m.group(0))]
    return _Found(urls, emails, phones)


def allowed_details(*, templates: Iterable[str], prospect: Prospect) -> Allowed:
    """The details the step's own templates (as written) and the prospect's record hold."""
    source = "\n".join(templates)
    found = _scan(source)
    hosts = {_host(prospect.website), prospect.domain.lower().removeprefix("www.")}
    phones = {_phone_key(phone) for phone in [*found.phones, prospect.phone]}
    return Allowed(
        urls=frozenset(_normal_url(url) for url in found.urls),
        hosts=frozenset(host for host in hosts if host),
        emails=frozenset({_normal_email(e) for e in found.emails} | {prospect.email.lower()}),
        phones=frozenset(phone for phone in phones if phone),
        template_text=source.lower(),
    )


def _url_allowed(url: str, allowed: Allowed) -> bool:
    return _normal_url(url) in allowed.urls or _host(url) in allowed.hosts


def _payment_requests(text: str, allowed: Allowed) -> list[str]:
    numbers = [m.group(0) for m in (*_IBAN.finditer(text), *_WALLET.finditer(text))]
    words = [
        m.group(0)
        for m in _PAYMENT_WORDS.finditer(text)
        if m.group(0).lower() not in allowed.template_text
    ]
    return numbers + words


def draft_foreign_details(draft: Draft, allowed: Allowed) -> list[str]:
    """Each link, phone number, e-mail address or payment request not in `allowed`."""
    text = f"{draft.subject}\n{draft.body}"
    found = _scan(text)
    foreign = [f"link {url}" for url in found.urls if not _url_allowed(url, allowed)]
    foreign += [
        f"e-mail address {email}"
        for email in found.emails
        if _normal_email(email) not in allowed.emails
    ]
    foreign += [
        f"phone number {phone}" for phone in found.phones if _phone_key(phone) not in allowed.phones
    ]
    foreign += [f"payment request {detail!r}" for detail in _payment_requests(text, allowed)]
    return list(dict.fromkeys(foreign))
