"""Why a message bounced, and whose fault that is.

A bounce's first digit says whether the remote server will retry, not whether the
address is dead: "550 mailbox full", "550 blocked using Spamhaus" and "550 DMARC
policy" are all permanent refusals of *this* message, yet the address is fine. So
the verdict follows the reason. Only an address that cannot receive mail (unknown
user, unknown or mail-less domain, moved) is a hard bounce; everything else is soft,
and the party it points at decides what happens next (see replies/report_effects.py).

The reason is read from the server's own words first (Diagnostic-Code or the bounce
text), then from the enhanced status code (RFC 3463 and its successors), then from
the SMTP reply code. Patterns are ordered: "Sender address rejected: Domain not
found" is about our sender and must be read before "domain not found".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Party(StrEnum):
    """Who the bounce is about, which decides its effect."""

    RECIPIENT = "recipient"  # the address is dead: hard bounce
    MAILBOX = "mailbox"  # the recipient's mailbox is there but cannot take mail now
    SENDER = "sender"  # us: our IP or domain's reputation, or our authentication
    RATE = "rate"  # we sent too much too fast to that server
    CONTENT = "content"  # the message itself was refused (spam, virus, policy)
    TRANSIENT = "transient"  # networks, remote systems, timeouts: nobody's fault


@dataclass(frozen=True)
class Reason:
    name: str
    party: Party

    @property
    def hard(self) -> bool:
        return self.party is Party.RECIPIENT

    @property
    def about_us(self) -> bool:
        """Blocklisting or failed authentication: every e-mail from the inbox is at risk."""
        return self.name in ("blocked", "auth_failure")


_PARTIES = {
    "user_unknown": Party.RECIPIENT,
    "host_unknown": Party.RECIPIENT,
    "has_moved": Party.RECIPIENT,
    "not_accept": Party.RECIPIENT,
    "mailbox_full": Party.MAILBOX,
    "suspended": Party.MAILBOX,
    "message_too_big": Party.CONTENT,
    "blocked": Party.SENDER,
    "auth_failure": Party.SENDER,
    "sender_rejected": Party.SENDER,
    "security": Party.SENDER,
    "rate_limited": Party.RATE,
    "spam": Party.CONTENT,
    "virus": Party.CONTENT,
    "content_rejected": Party.CONTENT,
    "filtered": Party.CONTENT,
    "policy": Party.CONTENT,
    "expired": Party.TRANSIENT,
    "delayed": Party.TRANSIENT,
    "network": Party.TRANSIENT,
    "system": Party.TRANSIENT,
    "no_relaying": Party.TRANSIENT,
    "undefined": Party.TRANSIENT,
}


def reason_named(name: str) -> Reason:
    return Reason(name=name, party=_PARTIES[name])


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# Order matters: the first reason whose pattern matches the server's words wins.
_TEXT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "auth_failure",
        _any(
            r"\b(spf|dkim|dmarc)\b",
            r"sender policy framework",
            r"domainkeys",
            r"not (pass|passing) (the )?authentication",
            r"unauthenticated (e-?mail|mail|message)s? (from|is not)",
            r"authentication (checks? )?(failed|failure)s?\b.*\b(sender|domain|message)",
            r"authentication checks? (failed|failure)",
            r"sender (domain )?(is )?not authenticated",
            # Microsoft's 550 5.7.515: "doesn't meet the required authentication level".
            r"required authentication level",
        ),
    ),
    (
        "blocked",
        _any(
            r"spamhaus|spamcop|barracuda|sorbs|dnsbl|\brbl\b|uceprotect|abuseat|senderbase",
            r"black ?list|block ?list|blocked list|\bban+ed\b",
            r"(?<!not )listed (at|on|in|by)\b",
            r"(ip|host|address|domain|sender|client|connection|server)\b.{0,40}\b"
            r"(is |was |has been |been )?(blocked|block(ed)? list|blacklisted|rejected due to)",
            r"\bblocked\b.{0,40}\b(ip|host|address|domain|reputation|policy|network)",
            r"reputation",
            r"reverse (dns|lookup|hostname|mapping)|\bptr\b|\brdns\b|no (dns|hostname) for",
            r"(poor|bad|low|suspicious) (sender|ip|domain)? ?(reputation|score)",
            r"refused to talk to me|not accepting (mail|messages) from (you|your)",
            r"dynamic ip|dialup|dial-up|residential|not from a valid mail server",
            r"rejected because (it|of) .{0,30}(ip|host)",
            r"(service unavailable|access denied)[;,:]? client host",
            r"too many (invalid|bad|unknown) recipients",
            r"temporarily deferred due to user complaints|complaints?",
            r"\bdeferred\b.{0,40}\b(policy|ip|reputation)",
            r"ts0[1-4]\b|\bnot allowed to send\b",
        ),
    ),
    (
        "sender_rejected",
        _any(
            r"sender (address |domain |e-?mail )?(rejected|refused|denied|not allowed|invalid|"
            r"unknown|verif|is not|blocked)",
            r"(domain|address) of sender",
            r"sender verify failed|sender verification",
            r"mail from\b.{0,60}\b(rejected|refused|not allowed|invalid)",
            r"(bad|invalid|unknown|unresolvable) sender",
            r"from address (is |was )?(rejected|not allowed|invalid)",
            r"your (domain|address) (is|has) (not|no)",
            r"unauthenticated senders? (not allowed|are not)",
            r"\b5\.1\.[78]\b",
        ),
    ),
    (
        "rate_limited",
        _any(
            r"too many (connections|messages|recipients|concurrent|sessions|mails|emails|hops)",
            r"rate[- ]?limit|rate of|sending rate|throttl|too fast|slow down",
            r"exceeded (the )?(maximum )?(number|rate|limit)|limit exceeded",
            r"(connection|message|recipient) (limit|count) (exceeded|reached)",
            r"try (again )?later\b.{0,40}\b(too many|rate|volume)",
            r"\b4\.7\.28\b|\b4\.7\.0 .{0,20}(rate|volume)",
            r"unusual rate|high volume|at a rate that|receiving mail (at a|too) ",
        ),
    ),
    (
        "virus",
        _any(r"virus|malware|infected|trojan|worm found|phishing"),
    ),
    (
        "spam",
        _any(
            r"spam|junk mail|unsolicited|bulk mail",
            r"looks like (spam|junk|bulk)|content filter|filtered as",
            r"message (was )?(rejected|refused|blocked) (as|because of|due to) (its )?content",
        ),
    ),
    (
        "message_too_big",
        _any(
            r"message (size|length) (exceeds|too|is too)",
            r"(message|mail|email) (is )?too (big|large|long)",
            r"exceeds (the )?(maximum|max|size|message size)",
            r"size limit|maximum (message )?size|\bsize exceeds",
        ),
    ),
    (
        "mailbox_full",
        _any(
            r"mail ?box (is |was )?(full|over ?quota|exceeded|size limit)",
            r"over ?quota|quota (exceeded|full|limit)|exceeded (storage|quota)|exceeds? quota",
            r"(storage|space|disk) (quota|allocation|space)? ?(exceeded|is full|full)",
            r"insufficient (disk|storage) space|mailbox has exceeded",
            r"too much mail|full mailbox|inbox (is )?full|not enough (disk|storage)",
            r"user (is )?over|account is full|mailfolder is full",
        ),
    ),
    (
        "suspended",
        _any(
            r"(account|mailbox|user|address|recipient)( \S+)? (is |has been |was )?"
            r"(temporarily |currently )?(disabled|suspended|deactivated|inactive|locked|frozen)",
            r"(disabled|suspended|inactive|deactivated|locked) (user|account|mailbox|recipient)",
            r"not (an )?active (user|account|mailbox)|no longer active|mailbox (is )?temporarily",
        ),
    ),
    (
        "has_moved",
        _any(r"has moved|\bmoved to\b|new (e-?mail )?address is|\b5\.1\.6\b"),
    ),
    (
        "not_accept",
        _any(
            r"null mx|does not accept (e-?)?mail|accepts no mail|not accept(ing)? mail",
            r"indicated no smtp service",
        ),
    ),
    (
        "host_unknown",
        _any(
            r"host (or domain name )?(not found|unknown)|unknown (host|domain)",
            r"domain (name )?(not found|does ?n[o']t exist|unknown|is not|lookup failed)",
            r"(no|can't find|cannot find|couldn'?t find)( any)? (mx|dns|a|mail exchanger|host)"
            r"( record| entry| server)?s?\b",
            r"name (or service )?(not known|server failure)|nxdomain",
            r"unrouteable (mail )?(domain|address)",
            r"(no such|invalid|non-?existent|unresolvable) (domain|host)",
            r"unable to route|no route to (the )?domain|host lookup (did not complete|failed)",
            r"domain (is )?(not|isn't) (configured|valid|hosted)",
            r"\b5\.1\.2\b",
        ),
    ),
    (
        "user_unknown",
        _any(
            r"user (is )?(unknown|not found|not exist|doesn'?t exist|does not exist|invalid)",
            r"unknown (user|recipient|mailbox|address|local[- ]?part|alias|account)",
            r"no such (user|mailbox|recipient|account|address|person|local user|alias)",
            r"(mail ?box|address|recipient|account|user ?name|e-?mail account)\b.{0,40}\b"
            r"(does ?n[o']t|did not|doesn'?t) exist",
            r"(mail ?box|address|recipient|user|account)( name)? (not found|unknown|invalid|"
            r"not valid|is not valid|not (registered|recognized|listed|local|available)|"
            r"unavailable|not exist)",
            r"invalid (recipient|mailbox|address|user|account|e-?mail)",
            r"not (a )?valid (recipient|mailbox|user|address|account)",
            r"(recipient|address|mailbox) (is )?no longer (valid|available|in use)",
            r"bad destination|no mailbox here|not our customer",
            r"address couldn'?t be found|wasn'?t found at|could not be found|was not found",
            r"recip(ient)?notfound|nosuchuser|nonexistent|non-existent|not exist",
            r"unknown or illegal alias|not listed in|no such (one|list)",
            r"(addressee|recipient) unknown|user doesn'?t have|bad address",
            r"no valid recipients?|mailbox unavailable|unknown recipient",
            r"(dead|inactive) address|no mailbox|mailbox not",
            r"\b5\.1\.[013]\b",
        ),
    ),
    (
        "security",
        _any(
            r"authentication required|must (be )?authenticat|relay access denied for unauth",
            r"tls (is )?required|starttls|must issue a starttls|encryption required",
            r"\b5\.7\.0\b",
        ),
    ),
    ("no_relaying", _any(r"relay(ing)? (access )?(denied|not permitted|prohibited)")),
    (
        "content_rejected",
        _any(
            r"content|attachment|header|\bmime\b|\brfc ?\d{3,4}\b|message (was )?rejected",
            r"(not|non)[- ]?compliant|malformed|8-?bit|line (is )?too long",
        ),
    ),
    (
        "policy",
        _any(r"polic(y|ies)|not authori[sz]ed|access denied|prohibited|refused"),
    ),
    (
        "expired",
        _any(
            r"expired|time(d)? ?out|retry (time|timeout)|too long in queue|giving up",
            r"could not be delivered (for|within|in) (the last )?\d+|delivery time",
            r"\b4\.4\.7\b",
        ),
    ),
    (
        "network",
        _any(
            r"connection (refused|reset|timed out|lost|closed|dropped)|network|unreachable",
            r"could not connect|unable to connect|no answer|connect to .{0,60} failed",
            r"lost connection|broken pipe",
        ),
    ),
    (
        "system",
        _any(
            r"system (error|full|not accepting|unavailable|config)|local error|internal error",
            r"temporar(il)?y? (failure|error|problem|unavailable)|try (again )?later",
            r"server (error|busy)|service (not available|unavailable)|resources|loop",
            r"insufficient system storage",
        ),
    ),
)

# Words that name the refused party without saying why: read after the status code.
_WEAK_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("user_unknown", _any(r"(address|recipient|mailbox|user)( address)? (is )?rejected")),
)

# Enhanced status codes (RFC 3463, 5248, 7372, 7505) whose meaning is specific enough.
_STATUS = {
    "1.1": "user_unknown",
    "1.2": "host_unknown",
    "1.3": "user_unknown",
    "1.6": "has_moved",
    "1.7": "sender_rejected",
    "1.8": "sender_rejected",
    "1.10": "not_accept",
    "2.1": "suspended",
    "2.2": "mailbox_full",
    "2.3": "message_too_big",
    "3.1": "system",
    "3.4": "message_too_big",
    "4.1": "network",
    "4.2": "network",
    "4.4": "host_unknown",
    "4.7": "expired",
    "5.3": "rate_limited",
    "6.0": "content_rejected",
    "7.1": "policy",
    "7.20": "auth_failure",
    "7.21": "auth_failure",
    "7.22": "auth_failure",
    "7.23": "auth_failure",
    "7.24": "auth_failure",
    "7.25": "blocked",
    "7.26": "auth_failure",
    "7.27": "not_accept",
    "7.28": "rate_limited",
    "7.515": "auth_failure",
    "7.7": "content_rejected",
}
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


# Where in the SMTP conversation the server refused: an unknown user refused at RCPT
# is certain; after DATA it is often a content filter saying "unknown" to stay quiet.
_AT_RCPT = _any(
    r"\brcpt\b|rcpt[ _]to|does not like recipient|recipient address rejected|unknown recipient",
    r"address (is )?(not|doesn'?t|does not) exist|account that you tried to reach",
    r"address couldn'?t be found|doesn'?t have an? .{1,60} account|invalid recipient",
)
_AT_DATA = _any(r"end of data|\bdata command|command data|>>> data|after data|\bdata\b")


def reason_from_text(
    text: str, rules: tuple[tuple[str, re.Pattern[str]], ...] = _TEXT_RULES
) -> str:
    """The first reason whose pattern the server's words match, or ''."""
    for name, pattern in rules:
        if pattern.search(text):
            return name
    return ""


def reason_from_status(status: str) -> str:
    match = _ENHANCED.search(status or "")
    if not match:
        return ""
    return _STATUS.get(f"{int(match.group(2))}.{int(match.group(3))}", "")


def bounce_reason(
    *, status: str, diagnostic: str, context: str = "", delayed: bool = False
) -> Reason:
    """The reason of one failed delivery.

    `diagnostic` is the remote server's reply for this recipient; `context` is the
    rest of the bounce's prose, read only when the reply and the status say nothing
    specific (a reporting server's boilerplate is a weaker witness than the reply).
    """
    if delayed:
        return reason_named("delayed")
    name = (
        reason_from_text(diagnostic)
        or reason_from_status(status)
        or reason_from_text(diagnostic, _WEAK_RULES)
        or reason_from_text(context)
        or reason_from_text(context, _WEAK_RULES)
        or "undefined"
    )
    by_status = reason_from_status(status)
    if name == "user_unknown" and not (by_status and reason_named(by_status).hard):
        # Without a bad-mailbox status code, only a refusal at RCPT time is believed.
        name = name if _refused_at_rcpt(diagnostic, context) else "filtered"
    reason = reason_named(name)
    if reason.hard and _temporary(status, diagnostic):
        # "Domain not found" with a 4xx code: a DNS hiccup the remote server will retry.
        return Reason(name=name, party=Party.TRANSIENT)
    return reason


def _refused_at_rcpt(diagnostic: str, context: str) -> bool:
    if _AT_DATA.search(diagnostic):
        return False
    return bool(_AT_RCPT.search(diagnostic) or _AT_RCPT.search(context))


def _temporary(status: str, diagnostic: str) -> bool:
    if status:
        return status.startswith("4")
    return bool(re.match(r"\s*4\d\d\b", diagnostic))
