"""Reading a response body as the web sends it: compressed, capped on the decoded size.

httpx would inflate a whole network chunk at once, so a few kilobytes of gzip could
become gigabytes before any cap applied. Here the raw bytes are fed in small pieces
to decoders that are told how much output they may produce, so memory never
exceeds the cap. A body that inflates beyond `BOMB_RATIO` times its compressed size
by the time it reaches the cap is a compression bomb and is refused; any other body
longer than the cap is cut there (`truncated`), like an endless plain page.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import brotli

from jengu.netguard import FetchError

ACCEPT_ENCODING = "gzip, deflate, br"
RAW_PIECE = 4096  # raw bytes fed at a time: one piece can only inflate so far
BOMB_RATIO = 100  # real HTML compresses 3-15x; only crafted bodies come near 100x


class Decoder:
    """One content-coding layer; `feed` returns at most `limit` bytes."""

    def feed(self, data: bytes, limit: int) -> bytes:
        raise NotImplementedError

    def pending(self) -> int:
        """Input bytes fed but not yet decoded (held back by the output limit)."""
        return 0


class Identity(Decoder):
    def feed(self, data: bytes, limit: int) -> bytes:
        return data[:limit]


class Zlib(Decoder):
    """gzip, and deflate with or without the zlib header (servers send both)."""

    def __init__(self, wbits: int) -> None:
        self.wbits = wbits
        self.inflater = zlib.decompressobj(wbits)
        self.started = False

    def feed(self, data: bytes, limit: int) -> bytes:
        try:
            return self._inflate(data, limit)
        except zlib.error as exc:
            if self.started or self.wbits != zlib.MAX_WBITS:
                raise FetchError("bad_encoding", f"corrupt compressed body: {exc}") from exc
            self.wbits, self.inflater = -zlib.MAX_WBITS, zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(data, limit)

    def pending(self) -> int:
        return len(self.inflater.unconsumed_tail)

    def _inflate(self, data: bytes, limit: int) -> bytes:
        out = self.inflater.decompress(data, limit)
        self.started = True
        # Input the limit held back waits in unconsumed_tail; past the cap it is dropped.
        while self.inflater.unconsumed_tail and len(out) < limit:
            out += self.inflater.decompress(self.inflater.unconsumed_tail, limit - len(out))
        return out


class Brotli(Decoder):
    def __init__(self) -> None:
        self.decompressor = brotli.Decompressor()

    def feed(self, data: bytes, limit: int) -> bytes:
        try:
            out = self.decompressor.process(data, output_buffer_limit=limit)
            while len(out) < limit and not self.decompressor.can_accept_more_data():
                out += self.decompressor.process(b"", output_buffer_limit=limit - len(out))
        except brotli.error as exc:
            raise FetchError("bad_encoding", f"corrupt brotli body: {exc}") from exc
        return out[:limit]  # brotli grows its buffer in blocks, so it may pass the limit


DECODERS = {
    "gzip": lambda: Zlib(16 + zlib.MAX_WBITS),
    "x-gzip": lambda: Zlib(16 + zlib.MAX_WBITS),
    "deflate": lambda: Zlib(zlib.MAX_WBITS),
    "br": Brotli,
    "identity": Identity,
}


def decoders_for(content_encoding: str) -> list[Decoder]:
    """The layers to undo, outermost first (`Content-Encoding: gzip, br` means br last)."""
    names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
    if len(names) > 3:
        raise FetchError("bad_encoding", f"{len(names)} content codings")
    unknown = [n for n in names if n not in DECODERS]
    if unknown:
        raise FetchError("bad_encoding", f"unsupported content coding {unknown[0]!r}"[:200])
    return [DECODERS[name]() for name in reversed(names) if name != "identity"]


@dataclass
class Body:
    content: bytes
    truncated: bool
    raw_bytes: int


def read_body(raw_chunks: Iterable[bytes], *, content_encoding: str, max_bytes: int) -> Body:
    """Decode `raw_chunks` through the response's codings, at most `max_bytes` out."""
    layers = decoders_for(content_encoding)
    out = bytearray()
    raw = 0
    for chunk in raw_chunks:
        for start in range(0, len(chunk), RAW_PIECE):
            piece = chunk[start : start + RAW_PIECE]
            raw += len(piece)
            for layer in layers:
                piece = layer.feed(piece, max_bytes + 1 - len(out))
            out += piece
            if len(out) > max_bytes:
                _refuse_bomb(len(out), raw - (layers[0].pending() if layers else 0), layers)
                return Body(bytes(out[:max_bytes]), truncated=True, raw_bytes=raw)
        if raw >= max_bytes:
            return Body(bytes(out), truncated=True, raw_bytes=raw)
    return Body(bytes(out), truncated=False, raw_bytes=raw)


def _refuse_bomb(decoded: int, consumed: int, layers: list[Decoder]) -> None:
    if layers and decoded > BOMB_RATIO * max(consumed, 1):
        raise FetchError(
            "compression_bomb",
            f"{consumed} compressed bytes inflate past {decoded} (more than {BOMB_RATIO}x)",
        )
