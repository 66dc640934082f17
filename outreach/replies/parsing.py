"""Robust MIME parsing of inbound mail.

Uses the lenient `compat32` policy: real-world mail is full of broken headers and
unknown charsets, and a reply we cannot read perfectly is still a reply. Only input
that is not an e-mail at all raises `MalformedEmailError`.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from mailparser_reply import EmailReplyParser

from outreach.replies.errors import MalformedEmailError
from outreach.replies.html import html_to_text

MAX_TEXT_CHARS = 200_000
# Containers whose parts are not what the sender wrote: an embedded original, DSN fields.
_NOT_BODY = frozenset({"message/rfc822", "message/delivery-status"})
_MSGID = re.compile(r"<[^<>\s]+>")
# Languages the quote/signature stripper knows "On … wrote:" headers for.
_REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs"]
_reply_parser = EmailReplyParser(languages=_REPLY_LANGUAGES)


@dataclass(frozen=True)
class DeliveryStatus:
    """One per-recipient block of a DSN (RFC 3464)."""

    recipient: str
    action: str
    status: str
    diagnostic: str


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    from_email: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    date: datetime | None
    headers: dict[str, str]
    content_type: str
    report_type: str
    text: str
    reply_text: str
    delivery_status: list[DeliveryStatus] = field(default_factory=list)
    original_message_ids: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, most specific first."""
        ids = self.in_reply_to + list(reversed(self.references)) + self.original_message_ids
        return list(dict.fromkeys(ids))


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw RFC 822 bytes; raise MalformedEmailError if it is not an e-mail."""
    if not raw or not raw.strip():
        raise MalformedEmailError("empty message")
    if b"\x00" in raw[:4096]:
        raise MalformedEmailError("binary data, not an RFC 822 message")
    try:
        message = email.message_from_bytes(raw)
        return _parsed(message)
    except MalformedEmailError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser crash means unreadable input
        raise MalformedEmailError(f"unparseable MIME: {type(exc).__name__}: {exc}") from exc


def _parsed(message: Message) -> ParsedEmail:
    from_name, from_email = parseaddr(header_text(message, "From"))
    if "@" not in from_email and not message.get("Message-ID"):
        raise MalformedEmailError("no From address and no Message-ID: not an e-mail")
    text = body_text(message)[:MAX_TEXT_CHARS]
    return ParsedEmail(
        message_id=first_message_id(header_text(message, "Message-ID")),
        in_reply_to=message_ids(header_text(message, "In-Reply-To")),
        references=message_ids(header_text(message, "References")),
        from_email=from_email.strip().lower(),
        from_name=from_name.strip(),
        to=addresses(message, "To"),
        cc=addresses(message, "Cc"),
        subject=" ".join(header_text(message, "Subject").split())[:998],
        date=_date(header_text(message, "Date")),
        headers={name.lower(): header_text(message, name) for name in set(message.keys())},
        content_type=message.get_content_type(),
        report_type=(message.get_param("report-type") or "").lower()
        if message.get_content_type() == "multipart/report"
        else "",
        text=text,
        reply_text=strip_quoted(text),
        delivery_status=_delivery_status(message),
        original_message_ids=_original_message_ids(message),
    )


def header_text(message: Message, name: str) -> str:
    """A header decoded from RFC 2047 words; undecodable parts kept as they came."""
    value = message.get(name)
    if value is None:
        return ""
    value = str(value)
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return value


def message_ids(value: str) -> list[str]:
    return _MSGID.findall(value)


def first_message_id(value: str) -> str:
    ids = message_ids(value)
    if ids:
        return ids[0][:255]
    # Some senders omit the angle brackets; keep a bare token as it is.
    return value.strip().split()[0][:255] if value.strip() else ""


def addresses(message: Message, name: str) -> list[str]:
    values = [header_text(message, name)] if message.get(name) else []
    return [addr.lower() for _, addr in getaddresses(values) if "@" in addr]


def _date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else None


def decode_part(part: Message) -> str:
    """A text part's content in any charset; unknown charsets fall back without failing."""
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = str(part.get_payload()).encode("utf-8", "replace")
    for charset in (part.get_content_charset(), "utf-8", "windows-1252"):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or (disposition != "inline" and bool(part.get_filename()))


def _text_parts(message: Message) -> tuple[list[Message], list[Message]]:
    """Plain and HTML body parts, not descending into attached or embedded messages."""
    plain: list[Message] = []
    html: list[Message] = []
    stack = [message]
    while stack:
        part = stack.pop(0)
        content_type = part.get_content_type()
        if part.is_multipart():
            if content_type not in _NOT_BODY:
                stack[0:0] = list(part.get_payload())
            continue
        if _is_attachment(part):
            continue
        if content_type == "text/plain":
            plain.append(part)
        elif content_type == "text/html":
            html.append(part)
    return plain, html


def body_text(message: Message) -> str:
    """The message's readable text: its plain parts, else its HTML parts as text."""
    plain, html = _text_parts(message)
    if plain:
        text = "\n".join(decode_part(part) for part in plain)
    else:
        text = "\n".join(html_to_text(decode_part(part)) for part in html)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def strip_quoted(text: str) -> str:
    """The newest reply only: earlier quoted messages, '>' lines and signatures removed."""
    if not text.strip():
        return ""
    replies = _reply_parser.read(text).replies
    newest = replies[0].body if replies else text
    lines = [line for line in newest.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _delivery_status(message: Message) -> list[DeliveryStatus]:
    blocks: list[DeliveryStatus] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        # The first block describes the reporting MTA, the rest one recipient each.
        for fields in payload[1:] if isinstance(payload, list) else []:
            blocks.append(
                DeliveryStatus(
                    recipient=_typed_address(str(fields.get("Final-Recipient", ""))),
                    action=str(fields.get("Action", "")).strip().lower(),
                    status=str(fields.get("Status", "")).strip().split(" ")[0],
                    diagnostic=" ".join(str(fields.get("Diagnostic-Code", "")).split()),
                )
            )
    return blocks


def _typed_address(value: str) -> str:
    """'rfc822; anna@example.com' -> 'anna@example.com'."""
    return value.partition(";")[2].strip().strip("<>").lower() if ";" in value else value.lower()


def _original_message_ids(message: Message) -> list[str]:
    """Message-IDs of an original message a bounce or auto-reply embeds."""
    ids: list[str] = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822" and part.is_multipart():
            embedded = part.get_payload()[0]
            ids += message_ids(header_text(embedded, "Message-ID"))
        elif content_type == "text/rfc822-headers":
            headers = email.message_from_string(decode_part(part))
            ids += message_ids(header_text(headers, "Message-ID"))
    return ids
