"""Turning a page's bytes into text the way browsers do.

The order follows the HTML standard's encoding sniffing: a byte-order mark, then the
charset of the Content-Type header, then a `<meta charset>` (or `http-equiv`) near
the top of the page, then a guess. Labels are read as browsers read them: "latin1",
"iso-8859-1" and "ascii" mean windows-1252. Two departures, because we only read
pages and never show them: a page labelled UTF-8 that is not valid UTF-8 (a common
mislabel) is guessed instead, and the guess is charset-normalizer's (the detector
httpx documents) where it is sure, windows-1252 (the browsers' default) where not.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

META_WINDOW = 4096  # the standard looks at 1024 bytes; real pages put <meta> later
META_CHARSET_RE = re.compile(
    rb"<meta[^>]{0,512}?charset\s*=\s*[\"']?\s*([a-z0-9_.:-]{1,40})", re.IGNORECASE
)
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"))  # fmt: skip
# Python codec names of the labels the HTML standard maps to another encoding.
WHATWG_ALIASES = {
    "iso8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252", "iso8859-9": "cp1254",
    "iso8859-11": "cp874", "tis-620": "cp874", "utf-16-le": "utf-8", "utf-16-be": "utf-8",
    "utf-16": "utf-8",
}  # fmt: skip
GUESS_SAMPLE = 64 * 1024  # detection cost grows with input; the start of a page is enough


def codec_for(label: str | None) -> str | None:
    """The Python codec a charset label means to a browser; None if it means nothing."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return WHATWG_ALIASES.get(name, name)


def meta_charset(body: bytes) -> str | None:
    match = META_CHARSET_RE.search(body[:META_WINDOW])
    return match.group(1).decode("ascii") if match else None


def decode_html(body: bytes, *, header_charset: str | None) -> tuple[str, str]:
    """(text, codec used). Never raises: undecodable bytes become U+FFFD."""
    for bom, codec in BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace"), codec
    for label in (header_charset, meta_charset(body)):
        codec = codec_for(label)
        if codec and (codec != "utf-8" or _is_utf8(body)):
            return body.decode(codec, errors="replace"), codec
    codec = "utf-8" if _is_utf8(body) else _guess(body)
    return body.decode(codec, errors="replace"), codec


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A page cut at the byte cap may end inside a character; that is still UTF-8.
        return exc.start >= len(body) - 3 and exc.reason == "unexpected end of data"
    return True


def _guess(body: bytes) -> str:
    """charset-normalizer's pick; windows-1252 when it fits as well as the pick.

    On short pages the detector often ties Western single-byte encodings (cp1250,
    cp1257, ...); unlabelled pages on the web are windows-1252 far more often.
    """
    matches = from_bytes(body[:GUESS_SAMPLE])
    best = matches.best()
    if best is None:
        return "cp1252"
    tied = [m for m in matches if m.percent_chaos <= best.percent_chaos]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        return "cp1252"
    return codec_for(best.encoding) or "cp1252"
