"""Every e-mail address a parsed page shows, however it is written.

Sources: `mailto:` links, visible text (HTML entities are decoded by the parser),
the usual obfuscations ("info [at] hotel [dot] com", "info(at)hotel(dot)de",
"info at hotel dot com"), Cloudflare's e-mail protection, schema.org `email` in
JSON-LD, and strings the page's scripts build (`enrichment.scripts`).

An address found in text ends where its top-level domain ends: a domain whose last
label is not a real TLD had a word glued onto it ("krone.chLandgasthof",
"krone.chlandgasthof") and is cut back to the longest real TLD, checked against the
public suffix list. The user part of a URL (`https://key@o1.ingest.sentry.io/`) is
not an address.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import cache
from typing import NamedTuple
from urllib.parse import unquote

from publicsuffixlist import PublicSuffixList

from enrichment.pages import ParsedPage
from enrichment.scripts import built_strings

EMAIL_RE = re.compile(
    r"[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}",
    re.IGNORECASE,
)
NOT_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "css", "js", "ico", "avif"})
# Special-use TLDs (RFC 2606) some of our own demos and fixtures live on.
RESERVED_TLDS = frozenset({"example", "test"})
AT_RE = re.compile(r"\s*[\[\(\{<]\s*(?:at|@|arroba|ät)\s*[\]\)\}>]\s*", re.IGNORECASE)
DOT_RE = re.compile(r"\s*[\[\(\{<]\s*(?:dot|punto|point|punkt|\.)\s*[\]\)\}>]\s*", re.IGNORECASE)
# "info at hotel dot com": only the full shape, so "meet us at the bar" is left alone.
SPELLED_RE = re.compile(
    r"\b([a-z0-9][a-z0-9._+-]*)\s+at\s+([a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)+)\b", re.IGNORECASE
)
SPELLED_DOT_RE = re.compile(r"\s+dot\s+", re.IGNORECASE)
SCRIPT_HINTS = ("@", "\\x40", "\\u0040", "fromCharCode", "&#64;")
CONTEXT_CHARS = 80


class Found(NamedTuple):
    address: str
    how: str  # mailto | text | obfuscated | cloudflare | json-ld | script
    context: str = ""  # the words just before it, to tell whose it is


@cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # parses the bundled list once per process


def known_tld(domain: str) -> bool:
    if domain.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return True
    return _suffixes().publicsuffix(domain, accept_unknown=False) is not None


def clean_address(raw: str) -> str | None:
    """The address in `raw` with anything glued after its TLD cut off; None if none."""
    local, _, domain = raw.strip().strip(".").partition("@")
    labels = domain.split(".")
    labels[-1] = _cut_at_case_change(labels[-1])
    labels = [label.lower() for label in labels]
    if labels[-1] in NOT_TLDS or not local:
        return None
    domain = _real_domain(labels)
    address = f"{local.lower()}@{domain}" if domain else ""
    return address if address and EMAIL_RE.fullmatch(address) else None


def _cut_at_case_change(label: str) -> str:
    """'chLandgasthof' -> 'ch': a capital after small letters starts a new word."""
    for index in range(2, len(label)):
        if label[index].isupper() and label[index - 1].islower():
            return label[:index]
    return label


def _real_domain(labels: list[str]) -> str:
    domain = ".".join(labels)
    if len(labels) < 2 or known_tld(domain):
        return domain if len(labels) >= 2 else ""
    head, last = labels[:-1], labels[-1]
    for end in range(len(last) - 1, 1, -1):
        candidate = ".".join([*head, last[:end]])
        if known_tld(candidate):
            return candidate
    return _real_domain(head) if len(head) >= 2 else ""


def deobfuscate(text: str) -> str:
    text = AT_RE.sub("@", text)
    text = DOT_RE.sub(".", text)
    return SPELLED_RE.sub(lambda m: f"{m.group(1)}@{SPELLED_DOT_RE.sub('.', m.group(2))}", text)


def in_text(text: str) -> Iterator[tuple[str, str]]:
    """(address, the words before it) for each address written out in `text`."""
    for match in EMAIL_RE.finditer(text):
        if text[max(0, match.start() - 2) : match.start()] == "//":
            continue  # the user part of a URL such as a Sentry DSN, not a mailbox
        address = clean_address(match.group(0))
        if address:
            yield address, text[max(0, match.start() - CONTEXT_CHARS) : match.start()]


def addresses_in(parsed: ParsedPage) -> list[Found]:
    """Every address on the page with how it was written, lower-cased, first sighting kept."""
    found: list[Found] = []
    for link in parsed.links:
        if link.href.lower().startswith("mailto:"):
            target = unquote(link.href[7:]).split("?", 1)[0]
            context = f"{link.before} {link.text}"
            found += [Found(a, "mailto", context) for a in _listed(target)]
    found += [Found(a, "cloudflare") for a in _listed(",".join(parsed.protected_emails))]
    found += [Found(a, "json-ld") for a in _listed(",".join(parsed.structured_emails))]
    found += [Found(a, "text", before) for a, before in in_text(parsed.text)]
    found += [Found(a, "obfuscated", before) for a, before in in_text(deobfuscate(parsed.text))]
    found += [Found(a, "script") for a in _in_scripts(parsed.scripts)]
    seen: set[str] = set()
    unique = []
    for item in found:
        if item.address not in seen:
            seen.add(item.address)
            unique.append(item)
    return unique


def _listed(addresses: str) -> list[str]:
    cleaned = (clean_address(a) for a in addresses.split(",") if "@" in a)
    return [a for a in cleaned if a]


def _in_scripts(scripts: list[str]) -> Iterator[str]:
    for source in scripts:
        if any(hint in source for hint in SCRIPT_HINTS):
            for built in built_strings(source):
                yield from (a for a, _ in in_text(html.unescape(unquote(built))))
