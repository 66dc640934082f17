"""Size limits checked before a stranger's message is parsed.

Anyone can send mail to our inboxes, so every parsing step must be linear in the
input and bounded: these caps are applied to the raw bytes before the MIME parser
sees them, and each names the reason an oversized message is flagged.
"""

from __future__ import annotations

import re

from django.conf import settings

from outreach.replies.errors import MalformedEmailError

_HEADER_END = re.compile(rb"\r?\n\r?\n")
# A header field starts on a line that does not begin with white space (RFC 5322 2.2.3).
_FIELD_START = re.compile(rb"\n(?![ \t])")
# Bytes that never appear in mail text (C0 controls other than TAB, LF, FF, CR and the
# ESC of ISO-2022 charsets): what binary data is made of.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
BINARY_SAMPLE_BYTES = 4096
# What storing reads of a message's header section (dedup key, sender, subject).
MAX_HEADER_BLOCK_BYTES = 256 * 1024
BINARY_SHARE = 0.1


def header_block(raw: bytes) -> bytes:
    """The message's own header section (up to the first empty line)."""
    end = _HEADER_END.search(raw)
    return raw[: end.start()] if end else raw


def header_field_count(raw: bytes) -> int:
    """How many header fields the message starts with, counted in one pass."""
    block = header_block(raw).strip()
    return len(_FIELD_START.findall(block)) + 1 if block else 0


def check_header_count(raw: bytes) -> None:
    limit = settings.INBOUND_MAX_HEADERS
    count = header_field_count(raw)
    if count > limit:
        raise MalformedEmailError(f"too many header fields: {count} (limit {limit})")


def check_not_binary(raw: bytes) -> None:
    sample = raw[:BINARY_SAMPLE_BYTES]
    if len(_CONTROL.findall(sample)) > BINARY_SHARE * len(sample):
        raise MalformedEmailError("binary data, not an RFC 822 message")


def without_nul(raw: bytes) -> tuple[bytes, int]:
    """NUL bytes removed (real mail servers do write them); returns the bytes and how many."""
    nuls = raw.count(b"\x00")
    return (raw.replace(b"\x00", b""), nuls) if nuls else (raw, 0)


def html_capped(html: str) -> str:
    """The first INBOUND_MAX_HTML_CHARS of an HTML body: a reply is at its top."""
    return html[: settings.INBOUND_MAX_HTML_CHARS]
