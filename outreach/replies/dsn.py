"""The fields of delivery status notifications (RFC 3464) and what they say per recipient.

Read leniently: a DSN whose MIME structure is broken still has its fields as text,
and servers write non-standard actions ("expired") and odd recipient types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

MAX_ADDRESSES = 20
ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+", re.ASCII)
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]{1,40}):[ \t]*(.*)$")
DSN_FIELDS = re.compile(r"^\s*(final-recipient|original-recipient)\s*:", re.I | re.M)
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_CODE = re.compile(r"(?<![\d.])([245]\d\d)(?=[ -]|$)(?!\.\d)", re.MULTILINE)
# Actions of RFC 3464 that report success; anything else (failed, delayed, and the
# "expired" or "bounced" some servers write) is a failure to deliver.
_DELIVERED = frozenset({"delivered", "relayed", "expanded"})


@dataclass(frozen=True)
class DeliveryStatus:
    """One recipient's outcome in a bounce or delivery report."""

    recipient: str
    action: str
    status: str
    diagnostic: str
    original_recipient: str = ""
    reply_code: str = ""

    @property
    def failed(self) -> bool:
        return self.action not in _DELIVERED


@dataclass(frozen=True)
class FeedbackReport:
    """A complaint (or opt-out, or authentication failure) about one of our messages."""

    feedback_type: str
    recipients: list[str]
    user_agent: str = ""


def part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    return str(part.get_payload())


def dsn_blocks(parts: list[Message]) -> list[DeliveryStatus]:
    blocks: list[DeliveryStatus] = []
    for part in parts:
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            groups = [dict((k.lower(), str(v)) for k, v in block.items()) for block in payload]
        else:
            groups = field_groups(part_text(part))
        blocks += [_delivery(group) for group in groups if _recipient_of(group)]
    return blocks[:MAX_ADDRESSES]


def dsn_in_text(text: str) -> list[DeliveryStatus]:
    """DSN fields written as text (a report whose MIME structure is broken or flattened).

    Give it the report's own text, without the original message it quotes.
    """
    if not DSN_FIELDS.search(text):
        return []
    groups = field_groups(text)
    return [_delivery(group) for group in groups if _recipient_of(group)][:MAX_ADDRESSES]


def field_groups(text: str) -> list[dict[str, str]]:
    """'Name: value' blocks separated by empty lines (a DSN body the parser left as text)."""
    groups: list[dict[str, str]] = [{}]
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if groups[-1]:
                groups.append({})
            last = ""
            continue
        if line[:1] in " \t" and last in groups[-1]:
            groups[-1][last] += " " + line.strip()
            continue
        match = _FIELD.match(line)
        if match:
            last = match.group(1).lower()
            groups[-1].setdefault(last, match.group(2).strip())
    return [group for group in groups if group]


def _recipient_of(group: dict[str, str]) -> str:
    return typed_address(group.get("final-recipient") or group.get("original-recipient", ""))


def typed_address(value: str) -> str:
    """'rfc822; anna@example.com' -> 'anna@example.com'."""
    value = value.partition(";")[2] if ";" in value else value
    match = ADDRESS.search(value)
    return match.group(0).lower() if match else ""


def _delivery(group: dict[str, str]) -> DeliveryStatus:
    diagnostic = " ".join(group.get("diagnostic-code", "").split())
    diagnostic = diagnostic.partition(";")[2].strip() if ";" in diagnostic[:12] else diagnostic
    status = group.get("status", "").strip().split(" ")[0]
    return DeliveryStatus(
        recipient=_recipient_of(group),
        action=group.get("action", "").strip().lower().split(" ")[0],
        status=status if _ENHANCED.fullmatch(status or "-") else status_in(diagnostic),
        diagnostic=diagnostic,
        original_recipient=typed_address(group.get("original-recipient", "")),
        reply_code=reply_code(diagnostic),
    )


def status_in(text: str) -> str:
    match = _ENHANCED.search(text)
    return match.group(0) if match else ""


def reply_code(text: str) -> str:
    match = _REPLY_CODE.search(text)
    return match.group(1) if match else ""
