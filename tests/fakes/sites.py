"""Loopback fixture websites for enrichment tests.

`FixtureSites` is a real HTTP server on 127.0.0.1 (port 0) serving:
- hotels by Host header (`http://casaazul.pt:<port>/`): a home page linking to a
  contact page whose addresses are obfuscated, and an about page (see
  `enrichment.demo_site`);
- fault routes on any host: `/redirect-private` (302 to the cloud metadata address),
  `/redirect-loopback` (302 to another loopback address), `/redirect-loop`,
  `/endless` (an HTML page that never ends), `/slow` (headers, then silence),
  `/drip` (one byte at a time, forever), `/brochure.pdf` (not HTML),
  `/garbage` (binary bytes labelled HTML).

`resolver()` gives a `StaticResolver` mapping every hotel domain to 127.0.0.1
with an MX, so guessing and validation run without real DNS.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

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

# Resolves and answers, but is another business: a guess that must be rejected.
OTHER_BUSINESS = HotelSite(name="Blue Surf School", city="Faro", domain="casaazul.com")


class FixtureSites(SiteServer):
    def __init__(self, sites: list[HotelSite] | None = None) -> None:
        self.released = threading.Event()
        super().__init__(
            sites if sites is not None else [CASA_AZUL, OTHER_BUSINESS],
            routes={
                "/redirect-private": redirect("http://169.254.169.254/latest/meta-data/"),
                "/redirect-loopback": self._to_other_loopback,
                "/redirect-loop": redirect("/redirect-loop"),
                "/endless": self._endless,
                "/slow": self._slow,
                "/drip": self._drip,
                "/brochure.pdf": lambda h: send(h, 200, b"%PDF-1.4 ...", "application/pdf"),
                "/garbage": lambda h: send(h, 200, bytes(range(256)) * 40),
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


def redirect(location: str):
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route
