"""Machine reports about mail we sent: bounces, delivery reports and spam complaints.

Real mail servers write them in three shapes, and all three are read here:

- RFC 3464 delivery status notifications (`multipart/report; report-type=
  delivery-status`): one block of fields per recipient;
- prose bounces (qmail, Exim, old Sendmail, many providers): the failed address
  and the remote server's words in the text, the original message quoted below a
  marker line, sometimes an `X-Failed-Recipients` header;
- RFC 5965 feedback reports (ARF, `report-type=feedback-report`): a recipient
  marked our message as spam (or opted out, or it failed authentication), plus
  the few providers that report complaints without ARF.

DSN fields are read by dsn.py, Amazon SES's JSON notifications by ses.py. What is
extracted is only what the message *claims*; whether the claim is about something we
sent is decided by threading.py, and what follows by the effects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from outreach.replies import phrases
from outreach.replies.dsn import (
    ADDRESS,
    DSN_FIELDS,
    MAX_ADDRESSES,
    DeliveryStatus,
    FeedbackReport,
    dsn_blocks,
    dsn_in_text,
    field_groups,
    part_text,
    reply_code,
    status_in,
    typed_address,
)
from outreach.replies.ses import ses_notification

# How much of the bounce text around a failed address is taken as the server's words.
_WINDOW_CHARS = 700
_MSGID_LINE = re.compile(r"^\s*>?\s*message-id:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_NOT_RECIPIENT = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|root|abuse|double-bounce|"
    r"no-?reply|bounces?|daemon|mail\.delivery\.system)@",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Report:
    """What a machine-written message says; `kind` is "" for anything else."""

    kind: str = ""  # "bounce" | "delivery" | "feedback" | ""
    deliveries: list[DeliveryStatus] = field(default_factory=list)
    feedback: FeedbackReport | None = None
    original_message_ids: list[str] = field(default_factory=list)
    original_recipients: list[str] = field(default_factory=list)
    prose: str = ""
    reference_text: str = ""


@dataclass
class _Originals:
    message_ids: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def report_read(*, parts: list[Message], headers: dict[str, str], text: str) -> Report:
    """Read a bounce, delivery report or complaint out of a message.

    `parts` are all its MIME parts in document order, `text` its readable body.
    """
    originals = _originals(parts)
    prose = _cut_at_original(text)
    originals.message_ids += _inline_message_ids(text, own=headers.get("message-id", ""))
    ses = ses_notification(text)
    if ses is not None:
        originals.message_ids += ses.message_ids
    feedback = ses.feedback if ses else _feedback(parts, headers, originals)
    if feedback is not None:
        kind, deliveries = "feedback", []
    elif ses is not None:
        kind, deliveries = ses.kind, ses.deliveries
    else:
        deliveries = dsn_blocks(parts) or dsn_in_text(_cut_at_original(text))
        kind = _bounce_kind(headers, deliveries, prose, parts)
    if kind == "bounce":
        deliveries = _with_prose(deliveries, headers, prose, originals)
    return Report(
        kind=kind,
        deliveries=deliveries,
        feedback=feedback,
        original_message_ids=_unique(originals.message_ids),
        original_recipients=_unique(originals.recipients),
        prose=prose,
        reference_text="\n".join([_routing_headers(headers), text, *originals.texts])[:400_000],
    )


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))[:MAX_ADDRESSES]


def _routing_headers(headers: dict[str, str]) -> str:
    # A VERP token comes back in the address the bounce was sent to.
    names = ("to", "delivered-to", "x-original-to", "envelope-to", "return-path")
    return "\n".join(headers.get(name, "") for name in names)


# --- embedded originals -------------------------------------------------------------


def _originals(parts: list[Message]) -> _Originals:
    found = _Originals()
    for part in parts:
        content_type = part.get_content_type()
        embedded: Message | None = None
        if content_type == "message/rfc822" and isinstance(part.get_payload(), list):
            payload = part.get_payload()
            embedded = payload[0] if payload else None
        elif content_type in ("text/rfc822-headers", "message/rfc822-headers"):
            embedded = HeaderParser().parsestr(part_text(part))
        if embedded is None:
            continue
        found.message_ids += _header_ids(embedded, "Message-ID")
        found.recipients += _header_addresses(embedded, "To")
        found.senders += _header_addresses(embedded, "From")
        found.texts.append("\n".join(f"{k}: {v}" for k, v in embedded.items()))
    return found


def _header_ids(message: Message, name: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(message.get(name, "")))


def _header_addresses(message: Message, name: str) -> list[str]:
    value = str(message.get(name, ""))
    return [addr.lower() for _, addr in getaddresses([value]) if "@" in addr]


def _inline_message_ids(text: str, own: str) -> list[str]:
    """Message-IDs of an original quoted inline in a prose bounce (below its marker)."""
    marker = phrases.ORIGINAL_MARKER.search(text)
    if not marker:
        return []
    return [mid for mid in _MSGID_LINE.findall(text, marker.start()) if mid not in own]


def _cut_at_original(text: str) -> str:
    marker = phrases.ORIGINAL_MARKER.search(text)
    return text[: marker.start()] if marker else text


# --- is it a bounce? ----------------------------------------------------------------


def _bounce_kind(
    headers: dict[str, str],
    deliveries: list[DeliveryStatus],
    prose: str,
    parts: list[Message],
) -> str:
    if deliveries:
        return "bounce" if any(d.failed for d in deliveries) else "delivery"
    if headers.get("x-failed-recipients") or _has_part(parts, "message/delivery-status"):
        return "bounce"
    sender = _address_in(headers.get("from", ""))
    subject = " ".join(headers.get("subject", "").split())
    if phrases.BOUNCE_SENDERS.search(sender):
        return "bounce"
    if phrases.REPLY_PREFIX.match(subject):
        # Someone forwarding a bounce to us is a person writing, unless it quotes one.
        return "bounce" if DSN_FIELDS.search(prose) else ""
    if phrases.BOUNCE_SUBJECTS.search(subject):
        return "bounce"
    machine = _machine_sent(headers, sender)
    if machine and (phrases.MACHINE_SUBJECTS.search(subject) or phrases.BOUNCE_PROSE.search(prose)):
        return "bounce"
    return ""


def _machine_sent(headers: dict[str, str], sender: str) -> bool:
    """Signs that no person wrote it: a null return path, Auto-Submitted, a no-reply sender."""
    return (
        headers.get("return-path", "").strip() == "<>"
        or headers.get("auto-submitted", "no").strip().lower() != "no"
        or not sender
        or "@" not in sender
        or bool(re.match(r"(no-?reply|do-?not-?reply|sysadmin|system|admin)", sender, re.I))
    )


def _has_part(parts: list[Message], content_type: str) -> bool:
    return any(part.get_content_type() == content_type for part in parts)


def _address_in(value: str) -> str:
    match = ADDRESS.search(value)
    return match.group(0) if match else value.strip("<> ").lower()


def _with_prose(
    deliveries: list[DeliveryStatus], headers: dict[str, str], prose: str, originals: _Originals
) -> list[DeliveryStatus]:
    """DSN blocks completed from the prose, or blocks made from the prose alone."""
    if deliveries:
        return [_completed(d, prose) for d in deliveries]
    action = (
        "delayed" if phrases.DELAYED.search(headers.get("subject", "") + "\n" + prose) else "failed"
    )
    recipients = _prose_recipients(headers, prose, originals) or originals.recipients[:1]
    if not recipients:
        return [_from_prose("", action, prose)]
    return [_from_prose(address, action, prose) for address in recipients]


def _completed(delivery: DeliveryStatus, prose: str) -> DeliveryStatus:
    if delivery.diagnostic:
        return delivery
    window = _window(prose, delivery.recipient)
    return DeliveryStatus(
        recipient=delivery.recipient,
        action=delivery.action,
        status=delivery.status or status_in(window),
        diagnostic=window,
        original_recipient=delivery.original_recipient,
        reply_code=reply_code(window),
    )


def _from_prose(address: str, action: str, prose: str) -> DeliveryStatus:
    window = _window(prose, address)
    return DeliveryStatus(
        recipient=address,
        action=action,
        status=status_in(window),
        diagnostic=window,
        reply_code=reply_code(window),
    )


def _window(prose: str, address: str) -> str:
    """The server's words about `address`: the text from its first mention on."""
    at = prose.lower().find(address) if address else -1
    start = at if at >= 0 else 0
    return " ".join(prose[start : start + _WINDOW_CHARS].split())


def _prose_recipients(headers: dict[str, str], prose: str, originals: _Originals) -> list[str]:
    failed = [a.lower() for a in ADDRESS.findall(headers.get("x-failed-recipients", ""))]
    if failed:
        return _unique(failed)
    ours = {_address_in(headers.get(name, "")) for name in ("from", "to", "reply-to")}
    ours.update(originals.senders)
    found = []
    for address in ADDRESS.findall(prose):
        address = address.lower()
        if address not in ours and not _NOT_RECIPIENT.match(address):
            found.append(address)
    return _unique(found)[:1]


# --- complaints ---------------------------------------------------------------------


def _feedback(
    parts: list[Message], headers: dict[str, str], originals: _Originals
) -> FeedbackReport | None:
    for part in parts:
        if part.get_content_type() == "message/feedback-report":
            return _arf(part, originals)
    if headers.get("x-apple-unsubscribe", "").strip().lower() == "true":
        return None  # Apple Mail's one-click unsubscribe: a plain opt-out, read as one
    if phrases.COMPLAINT_SUBJECTS.search(headers.get("subject", "")) and originals.message_ids:
        return FeedbackReport(feedback_type="abuse", recipients=originals.recipients[:1])
    return None


def _arf(part: Message, originals: _Originals) -> FeedbackReport:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        fields = [(k.lower(), str(v).strip()) for k, v in payload[0].items()]
    else:
        fields = [(k, v) for group in field_groups(part_text(part)) for k, v in group.items()]
    values: dict[str, list[str]] = {}
    for name, value in fields:
        values.setdefault(name, []).append(value)
    recipients = [
        addr
        for value in values.get("original-rcpt-to", [])
        for addr in [typed_address(value)]
        if addr
    ]
    return FeedbackReport(
        feedback_type=(values.get("feedback-type", ["abuse"])[0] or "abuse").lower(),
        recipients=_unique(recipients or originals.recipients),
        user_agent=values.get("user-agent", [""])[0][:200],
    )
