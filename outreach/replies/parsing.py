"""Robust MIME parsing of inbound mail.

Uses the lenient `compat32` policy: real-world mail is full of broken headers and
unknown charsets, and a reply we cannot read perfectly is still a reply. Only input
that is not an e-mail at all, or that breaks a size limit (limits.py), raises
`MalformedEmailError`. Every step is linear in the input: headers are read in one
pass, MIME parts are visited once and at most INBOUND_MAX_MIME_PARTS of them.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from django.conf import settings
from mailparser_reply import EmailReplyParser

from outreach.replies import limits
from outreach.replies.dsn import DeliveryStatus
from outreach.replies.errors import MalformedEmailError
from outreach.replies.html import html_to_text
from outreach.replies.reports import Report, report_read

MAX_TEXT_CHARS = 200_000
# The quote stripper is given the first part of the text only: the newest reply is on top.
MAX_REPLY_SCAN_CHARS = 20_000
# Containers whose parts are not what the sender wrote: an embedded original, report fields.
NOT_BODY = frozenset(
    {
        "message/rfc822",
        "message/delivery-status",
        "message/feedback-report",
        "text/rfc822-headers",
        "message/rfc822-headers",
    }
)
# Header fields of which we keep every occurrence, in order (the rest: the first one).
_ALL_OCCURRENCES = frozenset({"authentication-results", "received"})
_KEPT_OCCURRENCES = 20
_MSGID = re.compile(r"<[^<>\s]+>")
_ANY_HEADER = ("from", "message-id", "date", "subject", "received")
# Languages the quote/signature stripper knows "On … wrote:" headers for.
_REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs"]
_reply_parser = EmailReplyParser(languages=_REPLY_LANGUAGES)


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
    report: Report = field(default_factory=Report)
    all_headers: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def delivery_status(self) -> list[DeliveryStatus]:
        return self.report.deliveries

    @property
    def original_message_ids(self) -> list[str]:
        return self.report.original_message_ids

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, most specific first."""
        ids = self.in_reply_to + list(reversed(self.references)) + self.original_message_ids
        return list(dict.fromkeys(ids))


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse raw RFC 822 bytes; raise MalformedEmailError if it is not a readable e-mail."""
    if not raw or not raw.strip():
        raise MalformedEmailError("empty message")
    limits.check_not_binary(raw)
    raw, nuls = limits.without_nul(raw)
    limits.check_header_count(raw)
    try:
        message = email.message_from_bytes(raw)
        parsed = _parsed(message)
    except MalformedEmailError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser crash means unreadable input
        raise MalformedEmailError(f"unparseable MIME: {type(exc).__name__}: {exc}") from exc
    if nuls:
        parsed.notes.append(f"{nuls} NUL byte(s) removed before parsing")
    return parsed


def header_map(message: Message) -> tuple[dict[str, str], dict[str, list[str]]]:
    """All header fields in one pass: the first value of each, and every value of a few."""
    first: dict[str, str] = {}
    every: dict[str, list[str]] = {}
    for name, value in message.items():
        key = name.lower()
        if key not in first:
            first[key] = decoded(value)
        if key in _ALL_OCCURRENCES and len(every.setdefault(key, [])) < _KEPT_OCCURRENCES:
            every[key].append(decoded(value))
    return first, every


def _parsed(message: Message) -> ParsedEmail:
    headers, all_headers = header_map(message)
    if not any(headers.get(name) for name in _ANY_HEADER):
        raise MalformedEmailError(
            "no e-mail header (From, Date, Subject, Message-ID): not an e-mail"
        )
    from_name, from_email = parseaddr(headers.get("from", ""))
    parts = list(walk_parts(message))
    text = body_text(body_parts(parts))[:MAX_TEXT_CHARS]
    content_type = message.get_content_type()
    return ParsedEmail(
        message_id=first_message_id(headers.get("message-id", "")),
        in_reply_to=message_ids(headers.get("in-reply-to", "")),
        references=message_ids(headers.get("references", "")),
        from_email=from_email.strip().lower(),
        from_name=from_name.strip(),
        to=_addresses(headers.get("to", "")),
        cc=_addresses(headers.get("cc", "")),
        subject=" ".join(headers.get("subject", "").split())[:998],
        date=_date(headers.get("date", "")),
        headers=headers,
        content_type=content_type,
        report_type=(message.get_param("report-type") or "").lower()
        if content_type == "multipart/report"
        else "",
        text=text,
        reply_text=strip_quoted(text),
        report=report_read(parts=parts, headers=headers, text=text),
        all_headers=all_headers,
        notes=[],
    )


def decoded(value: object) -> str:
    """A header value decoded from RFC 2047 words; undecodable parts kept as they came."""
    value = str(value)
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return value


def header_text(message: Message, name: str) -> str:
    value = message.get(name)
    return "" if value is None else decoded(value)


def message_ids(value: str) -> list[str]:
    return _MSGID.findall(value)


def first_message_id(value: str) -> str:
    ids = message_ids(value)
    if ids:
        return ids[0][:255]
    # Some senders omit the angle brackets; keep a bare token as it is.
    return value.strip().split()[0][:255] if value.strip() else ""


def _addresses(value: str) -> list[str]:
    return [addr.lower() for _, addr in getaddresses([value]) if "@" in addr] if value else []


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


def walk_parts(message: Message) -> Iterator[Message]:
    """Every MIME part in document order, at most INBOUND_MAX_MIME_PARTS, without recursion."""
    stack = [message]
    seen = 0
    while stack and seen < settings.INBOUND_MAX_MIME_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend(reversed(payload))


def body_parts(parts: list[Message]) -> Iterator[Message]:
    """Leaf parts the sender wrote: not inside an attached or embedded message."""
    skip: set[int] = set()
    for part in parts:
        inside = id(part) in skip
        if inside or part.get_content_type() in NOT_BODY:
            payload = part.get_payload()
            if isinstance(payload, list):
                skip.update(id(child) for child in payload)
            continue
        if not part.is_multipart():
            yield part


def _broken_multipart(part: Message) -> bool:
    return part.get_content_maintype() == "multipart" and not part.is_multipart()


def body_text(parts: Iterable[Message]) -> str:
    """The message's readable text: its plain parts, else its HTML parts as text."""
    readable = [p for p in parts if not _is_attachment(p)]
    # A multipart whose boundary is missing or wrong is left as one text blob: read it.
    plain = [p for p in readable if p.get_content_type() == "text/plain" or _broken_multipart(p)]
    html = [p for p in readable if p.get_content_type() == "text/html"]
    if plain:
        text = "\n".join(decode_part(part) for part in plain)
    else:
        text = "\n".join(html_to_text(limits.html_capped(decode_part(part))) for part in html)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def message_text(message: Message) -> str:
    """The readable text of a whole message (as `ParsedEmail.text`)."""
    return body_text(body_parts(list(walk_parts(message))))


def strip_quoted(text: str) -> str:
    """The newest reply only: earlier quoted messages, '>' lines and signatures removed."""
    text = text[:MAX_REPLY_SCAN_CHARS]
    if not text.strip():
        return ""
    replies = _reply_parser.read(text).replies
    newest = replies[0].body if replies else text
    lines = [line for line in newest.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()
