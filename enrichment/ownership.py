"""Whose address is it: the business's own, or a third party's found on its site.

An address is the business's when it is on the site's domain (a subdomain, or the
same name under another TLD), or — weaker — when its domain, or its user part at a
free-mail provider, carries a distinctive word of the business's name
("info@alpenrose.ch" on hotel-alpenrose-wengen.ch, "hotelkrone@bluewin.ch").
Third parties' addresses are named with the reason they are not the business's:
placeholders from forms and templates, tracking and error-reporting services
(Sentry, Wix), keys that only look like addresses, and web agency credits.
"""

from __future__ import annotations

import re

from enrichment.names import FREE_MAIL_DOMAINS, core_tokens, tokens, word_set

PLACEHOLDER_DOMAINS = word_set(
    """example.com example.org example.net domain.com yourdomain.com your-domain.com
    test.com mysite.com yoursite.com company.com sample.com
    beispiel.de beispiel.com musterfirma.de mustermann.de esempio.it exemple.fr
    ejemplo.com"""
)
PLACEHOLDER_LOCALS = word_set(
    """example your yourname your.name youremail your.email name email e-mail user
    username test max.mustermann mustermann john.doe jane.doe johndoe vorname.nachname
    firstname.lastname first.last nome.cognome prenom.nom nombre.apellido"""
)
# Services whose addresses sit in every page's scripts: error reporting, site builders,
# newsletter and tracking tools.
SERVICE_DOMAINS = word_set(
    """sentry.io sentry-next.wixpress.com wixpress.com wix.com squarespace.com jimdo.com
    list-manage.com mailchimp.com hubspot.com hs-analytics.net cloudflare.com bugsnag.com
    rollbar.com trackjs.com newrelic.com"""
)
SOFTWARE_LOCALS = word_set("wordpress joomla typo3 drupal wix sentry mailer-daemon")
KEY_LOCAL_RE = re.compile(r"(?=[a-z]*\d)[0-9a-f]{16,}|[a-z0-9]{32,}")
AGENCY_RE = re.compile(
    r"web\s*design|design(?:ed)?\s+by|(?:site|website|made|created|developed|powered|built)"
    r"\s+(?:by|von)|realisation|realisiert|realizzat|realizado|umsetzung|programmierung|"
    r"gestaltung|agentur|agency|agenzia|hosting",
    re.IGNORECASE,
)
MIN_NAME_WORD = 4  # shorter name words ("inn", "bar") match too many domains


def on_site(email_domain: str, site_domain: str) -> bool:
    """The site's domain, a subdomain of it, or the same name under another TLD."""
    if email_domain == site_domain or email_domain.endswith("." + site_domain):
        return True
    site_label, email_label = site_domain.split(".")[0], email_domain.split(".")[0]
    return len(site_label) >= 4 and site_label == email_label


def named_after(address: str, business_name: str) -> bool:
    """The address's domain, or its user part at a free-mail provider, names the business."""
    local, _, domain = address.partition("@")
    words = [w for w in core_tokens(business_name) if len(w) >= MIN_NAME_WORD]
    if domain in FREE_MAIL_DOMAINS:
        haystack = "".join(tokens(local))
    else:
        haystack = "".join(tokens(domain.rsplit(".", 1)[0]))
    return bool(words) and any(word in haystack for word in words)


def third_party_reason(address: str) -> str | None:
    """Why `address` cannot be the business's, whatever its domain; None if it may be."""
    local, _, domain = address.partition("@")
    labels = domain.split(".")
    parents = {".".join(labels[i:]) for i in range(len(labels) - 1)}
    if parents & PLACEHOLDER_DOMAINS or local in PLACEHOLDER_LOCALS:
        return "placeholder address"
    if parents & SERVICE_DOMAINS or any("sentry" in label for label in labels):
        return "tracking or error-reporting service"
    if local in SOFTWARE_LOCALS:
        return "sent by website software, nobody reads it"
    if KEY_LOCAL_RE.fullmatch(local):
        return "a key, not a mailbox"
    return None


def agency_credit(context: str) -> bool:
    """The words just before an address credit whoever built or hosts the site."""
    return bool(AGENCY_RE.search(context[-60:]))
