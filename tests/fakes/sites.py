"""Loopback fixture websites for enrichment tests.

`FixtureSites` is a real HTTP server on 127.0.0.1 (port 0) serving:
- hotels by Host header (`http://casaazul.pt:<port>/`): a home page linking to a
  contact page whose addresses are obfuscated, and an about page (see
  `enrichment.demo_site`);
- fault routes on any host: `/redirect-private` (302 to the cloud metadata address),
  `/redirect-loopback` (302 to another loopback address), `/redirect-loop`,
  `/redirect-garbage` (an unparsable Location), `/redirect-shorthand` (to 0177.0.0.1),
  `/endless` (an HTML page that never ends), `/slow` (headers, then silence),
  `/drip` (one byte at a time, forever), `/brochure.pdf` (not HTML),
  `/garbage` (binary bytes labelled HTML);
- compressed bodies as servers send them: `/gzip`, `/deflate`, `/raw-deflate`, `/br`;
  `/gzip-large` (a real page longer than the tests' byte cap); `/gzip-bomb` and
  `/br-bomb` (tens of MB that compress to kilobytes); `/corrupt-gzip`; `/zstd` (a
  coding we never asked for); `/drip-headers` (a status line, then one header byte
  every 50 ms for at most 5 s; `header_bytes_dripped` counts what it sent).

`resolver()` gives a `StaticResolver` mapping every hotel domain to 127.0.0.1
with an MX, so guessing and validation run without real DNS.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
import zlib
from collections.abc import Callable
from functools import cache
from http.server import BaseHTTPRequestHandler

import brotli

from enrichment.demo_site import HotelSite, SiteServer, send
from jengu.dns import StaticResolver

CASA_AZUL = HotelSite(
    name="Hotel Casa Azul",
    city="Lisbon",
    domain="casaazul.pt",
    emails=[
        "reservas@casaazul.pt",  # mailto link
        "ana.costa@casaazul.pt",  # HTML entities
        "info@casaazul.pt",  # "[at]" / "[dot]"
        "sales@casaazul.pt",  # Cloudflare-protected
        "partners@booking.com",  # someone else's address
        "noreply@casaazul.pt",
    ],
    contact_name="Ana Costa",
)

COMPRESSED_PAGE = (
    b"<html><head><title>Hotel Casa Azul</title></head><body><p>Lisbon. "
    b"Write to reservas@casaazul.pt</p></body></html>"
)
# A long real page compresses 5-10x: room lists with ids (here hashes) and numbers.
LARGE_PAGE = b"<html><title>Hotel Casa Azul</title><ul>" + b"".join(
    f"<li class='room'>Quarto {i} ({hashlib.md5(str(i).encode()).hexdigest()[:8]}): "  # noqa: S324
    f"vista para o rio, {i * 7 % 13} m2</li>".encode()
    for i in range(3000)
)

# Resolves and answers, but is another business: a guess that must be rejected.
OTHER_BUSINESS = HotelSite(name="Blue Surf School", city="Faro", domain="casaazul.com")


class FixtureSites(SiteServer):
    def __init__(self, sites: list[HotelSite] | None = None) -> None:
        self.released = threading.Event()
        self.header_bytes_dripped = 0
        super().__init__(
            sites if sites is not None else [CASA_AZUL, OTHER_BUSINESS],
            routes={
                "/redirect-private": redirect("http://169.254.169.254/latest/meta-data/"),
                "/redirect-loopback": self._to_other_loopback,
                "/redirect-loop": redirect("/redirect-loop"),
                "/redirect-garbage": redirect("http://[oops/"),
                "/redirect-shorthand": redirect("http://0177.0.0.1/"),
                "/endless": self._endless,
                "/slow": self._slow,
                "/drip": self._drip,
                "/brochure.pdf": lambda h: send(h, 200, b"%PDF-1.4 ...", "application/pdf"),
                "/garbage": lambda h: send(h, 200, bytes(range(256)) * 40),
                "/gzip": encoded(gzip.compress(COMPRESSED_PAGE), "gzip"),
                "/deflate": encoded(zlib.compress(COMPRESSED_PAGE), "deflate"),
                "/raw-deflate": encoded(zlib.compress(COMPRESSED_PAGE)[2:-4], "deflate"),
                "/br": encoded(brotli.compress(COMPRESSED_PAGE), "br"),
                "/gzip-large": encoded(gzip.compress(LARGE_PAGE), "gzip"),
                "/gzip-bomb": encoded(gzip_bomb, "gzip"),
                "/br-bomb": encoded(brotli_bomb, "br"),
                "/corrupt-gzip": encoded(
                    gzip.compress(COMPRESSED_PAGE)[:20] + b"junk" * 50, "gzip"
                ),
                "/zstd": encoded(b"(\xb5/\xfd not really", "zstd"),
                "/drip-headers": self._drip_headers,
            },
            search=True,
        )

    def stop(self) -> None:
        self.released.set()  # let slow handlers finish so shutdown is quick
        super().stop()

    def resolver(self, **extra) -> StaticResolver:
        domains = list(self.sites)
        return StaticResolver(
            addresses={d: ["127.0.0.1"] for d in domains} | extra.get("addresses", {}),
            mx={d: [(10, f"mx.{d}")] for d in domains} | extra.get("mx", {}),
            timeouts=extra.get("timeouts"),
        )

    def _to_other_loopback(self, handler: BaseHTTPRequestHandler) -> None:
        redirect(f"http://127.0.0.2:{self.port}/")(handler)

    def _endless(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        chunk = b"<p>" + b"room with a view " * 400 + b"</p>\n"
        try:
            handler.wfile.write(b"<html><title>Hotel Casa Azul</title><body>")
            while not self.released.is_set():
                handler.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading: that is the point

    def _slow(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        handler.wfile.flush()
        self.released.wait(5)

    def _drip(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        try:
            while not self.released.is_set():
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    def _drip_headers(self, handler: BaseHTTPRequestHandler) -> None:
        self.header_bytes_dripped = 0
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Padding: ")
            for _ in range(100):  # 5 s at most, so a client without a deadline fails, not hangs
                if self.released.is_set():
                    break
                handler.wfile.write(b"a")
                handler.wfile.flush()
                self.header_bytes_dripped += 1
                time.sleep(0.05)
        except OSError:
            pass  # the client gave up: that is the point
        handler.close_connection = True


@cache
def gzip_bomb() -> bytes:
    return gzip.compress(b" " * 10_000_000, 9)  # about 10 kB


@cache
def brotli_bomb() -> bytes:
    return brotli.compress(b" " * 10_000_000, quality=5)  # a few dozen bytes


def encoded(body: bytes | Callable[[], bytes], coding: str):
    def route(handler: BaseHTTPRequestHandler) -> None:
        nonlocal body
        body = body() if callable(body) else body
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Encoding", coding)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return route


def redirect(location: str):
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route
