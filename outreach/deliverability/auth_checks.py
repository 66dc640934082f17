"""One inbox domain's e-mail authentication, checked in DNS, each finding with its fix.

SPF (record, lookup count, does it allow our relay), DKIM (the selector's key and
its length, and that it is ours when Jengu signs), DMARC (policy and alignment
modes), MX and MTA-STS. "Aligned" follows DMARC: SPF aligns when the envelope
domain (the inbox's own domain: Jengu sends with it, VERP included) allows the
relay; DKIM aligns when a usable key is published for the From domain.
"""

from __future__ import annotations

import re

from django.conf import settings
from publicsuffixlist import PublicSuffixList

from crm.models import Inbox
from jengu.dns import DnsError, NoSuchDomain, Resolver
from jengu.netguard import literal_address
from outreach.sending import dkim
from outreach.sending.presets import dkim_selector_for, inbox_preset, inbox_settings

from . import spf
from .findings import ERROR, FAIL, PASS, WARN, AuthReport, Finding
from .mta_sts import mta_sts_check


def inbox_domain(inbox: Inbox) -> str:
    return inbox.email.rpartition("@")[2].lower()


def _relay_addresses(resolver: Resolver, inbox: Inbox) -> list[str]:
    literal = literal_address(inbox.smtp_host) if inbox.smtp_host else None
    if literal:
        return [literal]
    try:
        return resolver.addresses(inbox.smtp_host) if inbox.smtp_host else []
    except DnsError:
        return []


def spf_finding(resolver: Resolver, inbox: Inbox, domain: str) -> tuple[Finding, bool]:
    try:
        result = spf.spf_evaluate(resolver=resolver, domain=domain)
    except DnsError as exc:
        return Finding("spf", ERROR, f"SPF lookup failed: {exc}", "Check again later."), False
    if result is None:
        return Finding(
            "spf", FAIL, f"{domain} publishes no SPF record.", _spf_fix(inbox, domain)
        ), False
    details = {
        "record": result.record,
        "lookups": result.lookups,
        "void_lookups": result.void_lookups,
        "all": result.all_qualifier,
        "includes": result.includes,
        "errors": result.errors,
    }
    broken = _spf_broken(result)
    if broken:
        return Finding("spf", FAIL, broken, _spf_fix(inbox, domain, result), details), False
    allowed, how = _relay_allowed(resolver, inbox, result)
    if allowed is False:
        summary = f"SPF does not allow your relay ({how})."
        return Finding("spf", FAIL, summary, _spf_fix(inbox, domain, result), details), False
    status, summary, fix = PASS, f"SPF allows your relay ({how}), {result.lookups}/10 lookups.", ""
    if result.all_qualifier in ("+", "?", ""):
        status = WARN
        fix = "End the record with ~all or -all: as it stands, it vouches for any sender."
    elif allowed is None:
        status, summary = WARN, f"SPF found, but whether it allows your relay is unknown ({how})."
    return Finding("spf", status, summary, fix, details), True


def _spf_broken(result: spf.SpfResult) -> str:
    if result.lookups > spf.LOOKUP_LIMIT:
        return f"SPF needs {result.lookups} DNS lookups; receivers stop at 10 (permerror)."
    if result.void_lookups > spf.VOID_LIMIT:
        return f"SPF has {result.void_lookups} lookups that find nothing; the limit is 2."
    if result.errors:
        return "SPF is broken: " + "; ".join(result.errors[:3])
    return ""


def _relay_allowed(resolver: Resolver, inbox: Inbox, result: spf.SpfResult) -> tuple:
    """(True | False | None for unknown, how we know)."""
    include = inbox_preset(inbox).spf_include
    if inbox.transport == Inbox.Transport.RESEND:
        return None, "Resend sends with its own bounce domain; DKIM carries alignment"
    if include:
        return include in result.includes, f"include:{include}"
    addresses = _relay_addresses(resolver, inbox)
    if any(result.allows(address) for address in addresses):
        return True, f"{inbox.smtp_host} is listed"
    if result.unresolvable:
        return None, "the record uses " + ", ".join(result.unresolvable[:2])
    return False, f"{inbox.smtp_host} ({', '.join(addresses) or 'no address'}) is not listed"


def _spf_fix(inbox: Inbox, domain: str, result: spf.SpfResult | None = None) -> str:
    include = inbox_preset(inbox).spf_include
    mechanism = f"include:{include}" if include else f"a:{inbox.smtp_host or 'your-relay'}"
    if result is not None and result.lookups > spf.LOOKUP_LIMIT:
        return (
            "Remove includes you no longer use or replace them with ip4:/ip6: ranges "
            "until the record needs 10 lookups or fewer."
        )
    return f'Publish one TXT record at {domain}: "v=spf1 {mechanism} ~all".'


def dkim_finding(resolver: Resolver, inbox: Inbox, domain: str) -> tuple[Finding, bool]:
    selector = dkim_selector_for(inbox)
    row = inbox_settings(inbox)
    signing = bool(row and row.dkim_sign and row.dkim_private_key)
    if not selector:
        fix = "Set the DKIM selector your mail provider gave you (or let Jengu sign)."
        return Finding("dkim", FAIL, "No DKIM selector configured.", fix), False
    name = f"{selector}._domainkey.{domain}"
    try:
        records = [r for r in resolver.txt(name) if "p=" in r]
    except NoSuchDomain:
        records = []
    except DnsError as exc:
        return Finding("dkim", ERROR, f"DKIM lookup failed: {exc}", "Check again later."), False
    if not records:
        return Finding("dkim", FAIL, f"No DKIM key at {name}.", _dkim_fix(name, row)), False
    key = dkim.published_key_parse(records[0])
    details = {"selector": selector, "name": name, "kind": key.kind, "bits": key.bits}
    problem = _dkim_problem(key, row, signing)
    if problem:
        return Finding("dkim", FAIL, problem, _dkim_fix(name, row), details), False
    if key.kind == "rsa" and key.bits < dkim.GOOD_BITS:
        fix = f"Rotate to a {dkim.GOOD_BITS}-bit key."
        return Finding("dkim", WARN, f"DKIM key is {key.bits} bits.", fix, details), True
    summary = f"DKIM key at {name} ({key.kind}, {key.bits} bits)."
    return Finding("dkim", PASS, summary, "", details), True


def _dkim_problem(key: dkim.PublishedKey, row, signing: bool) -> str:
    if key.revoked:
        return "The DKIM key is revoked (empty p=)."
    if key.error:
        return f"The DKIM record is unusable: {key.error}."
    if key.kind == "rsa" and key.bits < dkim.MIN_BITS:
        return f"The DKIM key has {key.bits} bits; receivers ignore keys under 1024."
    if signing and key.public != dkim.public_der(row.dkim_private_key):
        return "The published key is not the one Jengu signs with."
    return ""


def _dkim_fix(name: str, row) -> str:
    if row and row.dkim_sign and row.dkim_private_key:
        return f'Publish a TXT record at {name}: "{dkim.dns_record_for(row.dkim_private_key)}".'
    return f"Turn on DKIM signing at your mail provider and publish its key at {name}."


_PSL = PublicSuffixList()


def _dmarc_record(resolver: Resolver, domain: str) -> tuple[str, str]:
    """(record, where found): the domain's own, else its organisational domain's."""
    organisational = _PSL.privatesuffix(domain) or domain
    for name in dict.fromkeys((domain, organisational)):
        try:
            found = [r for r in resolver.txt(f"_dmarc.{name}") if r.lower().startswith("v=dmarc1")]
        except NoSuchDomain:
            found = []
        if found:
            return found[0], name
    return "", ""


def dmarc_finding(resolver: Resolver, domain: str) -> Finding:
    try:
        record, where = _dmarc_record(resolver, domain)
    except DnsError as exc:
        return Finding("dmarc", ERROR, f"DMARC lookup failed: {exc}", "Check again later.")
    fix = f'Publish a TXT record at _dmarc.{domain}: "v=DMARC1; p=none; rua=mailto:dmarc@{domain}".'
    if not record:
        return Finding("dmarc", FAIL, "No DMARC record (Gmail and Yahoo require one).", fix)
    tags = dict(re.findall(r"(\w+)\s*=\s*([^;]*)", record))
    tags = {name.lower(): value.strip() for name, value in tags.items()}
    policy = tags.get("sp" if where != domain else "p", tags.get("p", "")).lower()
    details = {
        "record": record,
        "found_at": where,
        "policy": policy,
        "adkim": tags.get("adkim", "r"),
        "aspf": tags.get("aspf", "r"),
        "pct": tags.get("pct", "100"),
    }
    if policy not in ("none", "quarantine", "reject"):
        return Finding("dmarc", FAIL, f"DMARC policy {policy!r} is not valid.", fix, details)
    if policy == "none":
        summary = "DMARC only monitors (p=none)."
        advice = "Once reports show your mail aligning, move to p=quarantine."
        return Finding("dmarc", WARN, summary, advice, details)
    summary = f"DMARC p={policy} (DKIM alignment {details['adkim']}, SPF {details['aspf']})."
    return Finding("dmarc", PASS, summary, "", details)


def mx_finding(resolver: Resolver, domain: str) -> tuple[Finding, list[str]]:
    try:
        records = resolver.mx(domain)
    except NoSuchDomain:
        records = []
    except DnsError as exc:
        return Finding("mx", ERROR, f"MX lookup failed: {exc}", "Check again later."), []
    hosts = [host for _, host in records if host]
    if not hosts:
        fix = f"Publish MX records for {domain}: replies and bounces need somewhere to go."
        return Finding("mx", FAIL, f"{domain} receives no mail (no MX).", fix), []
    return Finding("mx", PASS, f"MX: {', '.join(hosts[:3])}.", "", {"hosts": hosts}), hosts


def inbox_auth_report(*, inbox: Inbox, resolver: Resolver) -> AuthReport:
    """Every check for the inbox's domain; DNS trouble becomes an `error` finding."""
    domain = inbox_domain(inbox)
    spf_result, spf_ok = spf_finding(resolver, inbox, domain)
    dkim_result, dkim_ok = dkim_finding(resolver, inbox, domain)
    mx_result, hosts = mx_finding(resolver, domain)
    findings = [spf_result, dkim_result, dmarc_finding(resolver, domain), mx_result]
    if settings.DELIVERABILITY_MTA_STS_CHECK:
        findings.append(mta_sts_check(resolver=resolver, domain=domain, mx_hosts=hosts))
    return AuthReport(domain, findings, spf_aligned=spf_ok, dkim_aligned=dkim_ok)
