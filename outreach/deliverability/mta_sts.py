"""MTA-STS (RFC 8461): the `_mta-sts` TXT record and the policy file it announces.

The policy is fetched over HTTPS through the same guard as every outbound fetch
(no private addresses), with a size cap and a timeout; a policy whose `mx:` lines
do not cover the domain's MX hosts would make senders that enforce it refuse to
deliver replies and bounces, so that is a failure, not a warning.
"""

from __future__ import annotations

import fnmatch

import httpx
from django.conf import settings

from jengu.dns import DnsError, NoSuchDomain, Resolver
from jengu.netguard import AddressPolicy, FetchError, GuardedTransport

from .findings import Finding

MAX_POLICY_BYTES = 64 * 1024


def _finding(status: str, summary: str, fix: str = "", details: dict | None = None) -> Finding:
    return Finding("mta_sts", status, summary, fix, details or {})


def _policy_fetch(resolver: Resolver, domain: str) -> str:
    url = settings.DELIVERABILITY_MTA_STS_POLICY_URL.format(domain=domain)
    transport = GuardedTransport(resolver=resolver, policy=AddressPolicy.from_settings())
    timeout = settings.DELIVERABILITY_MTA_STS_TIMEOUT_SECONDS
    with (
        httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as client,
        client.stream("GET", url) as response,
    ):
        response.raise_for_status()
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_POLICY_BYTES:
                raise FetchError("too_big", "policy larger than 64 KiB")
    return body.decode("utf-8", "replace")


def policy_parse(text: str) -> dict:
    policy: dict = {"mx": []}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "mx":
            policy["mx"].append(value.lower())
        elif name:
            policy[name] = value
    return policy


def _covered(host: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(host.lower(), pattern) for pattern in patterns)


def mta_sts_check(*, resolver: Resolver, domain: str, mx_hosts: list[str]) -> Finding:
    try:
        records = [r for r in resolver.txt(f"_mta-sts.{domain}") if r.startswith("v=STSv1")]
    except NoSuchDomain:
        records = []
    except DnsError as exc:
        return _finding("error", f"MTA-STS lookup failed: {exc}", "Check again later.")
    if not records:
        fix = "Optional: publish MTA-STS so mail to you is only delivered over TLS."
        return _finding("warn", "No MTA-STS policy.", fix)
    try:
        policy = policy_parse(_policy_fetch(resolver, domain))
    except (httpx.HTTPError, FetchError, OSError) as exc:
        fix = f"Serve the policy at https://mta-sts.{domain}/.well-known/mta-sts.txt."
        return _finding("fail", f"MTA-STS is announced but its policy is unreadable: {exc}", fix)
    details = {"mode": policy.get("mode", ""), "mx": policy["mx"], "max_age": policy.get("max_age")}
    if policy.get("version") != "STSv1" or policy.get("mode") not in ("enforce", "testing", "none"):
        return _finding(
            "fail", "The MTA-STS policy is malformed.", "Fix version and mode.", details
        )
    uncovered = [host for host in mx_hosts if not _covered(host, policy["mx"])]
    if uncovered and policy["mode"] != "none":
        fix = "Add an mx: line for " + ", ".join(uncovered) + " to the policy."
        return _finding("fail", "The MTA-STS policy leaves out MX hosts.", fix, details)
    if policy["mode"] == "testing":
        return _finding("warn", "MTA-STS in testing mode.", "Switch to mode: enforce.", details)
    return _finding("pass", f"MTA-STS mode {policy['mode']}.", "", details)
