"""Small hotel websites served on loopback, for the demo and as the tests' fixture sites.

One threaded HTTP server answers for many hotels, told apart by the Host header
(`http://casaazul.example:8025/`). Each hotel has a home page linking to a contact
page and an about page, whose addresses are written the ways real sites write
them: `mailto:` links, HTML entities, "[at]/[dot]" and Cloudflare's protection.
`DemoResolver` maps the demo hotels' domains to 127.0.0.1 so enrichment can find
them by guessing, with the SSRF guard letting only 127.0.0.1/32 through.

    python -m enrichment.demo_site --port 8025
"""

from __future__ import annotations

import argparse
import html
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from jengu.dns import StaticResolver

DEMO_PORT = 8025
Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class HotelSite:
    name: str
    city: str
    domain: str
    emails: list[str] = field(default_factory=list)
    contact_name: str = ""


def entity_encoded(text: str) -> str:
    return "".join(f"&#{ord(ch)};" if ch in "@." else ch for ch in text)


def bracketed(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local} [at] {domain.replace('.', ' [dot] ')}"


def cloudflare(email: str, key: int = 0x5A) -> str:
    encoded = bytes([key]) + bytes(b ^ key for b in email.encode())
    return f'<a href="/cdn-cgi/l/email-protection#{encoded.hex()}">[email&#160;protected]</a>'


def written(index: int, email: str) -> str:
    """Each address on a contact page is written a different way, as on real sites."""
    styles = [
        lambda e: f'<a href="mailto:{e}?subject=Booking">{html.escape(e)}</a>',
        entity_encoded,
        bracketed,
        cloudflare,
    ]
    return styles[index % len(styles)](email)


def page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>body{{font-family:sans-serif}}</style></head><body>{body}</body></html>"
    )


def home_page(site: HotelSite) -> str:
    nav = (
        '<nav><a href="/">Home</a> <a href="/rooms/">Rooms</a> '
        '<a href="/contact/">Contact us</a> <a href="/about/">About</a></nav>'
    )
    return page(
        f"{site.name} | Boutique hotel in {site.city}",
        f"{nav}<h1>{html.escape(site.name)}</h1><p>Twelve quiet rooms in the old town of "
        f"{html.escape(site.city)}. Breakfast on the terrace.</p>",
    )


def contact_page(site: HotelSite) -> str:
    lines = "".join(f"<li>{written(i, e)}</li>" for i, e in enumerate(site.emails))
    return page(
        f"Contact - {site.name}",
        f"<h1>Contact</h1><address>{html.escape(site.name)}, {html.escape(site.city)}</address>"
        f"<ul>{lines}</ul><p>Follow us: <a href='https://www.facebook.com/x'>Facebook</a></p>",
    )


def about_page(site: HotelSite) -> str:
    who = html.escape(site.contact_name) if site.contact_name else "our family"
    return page(f"About - {site.name}", f"<h1>About us</h1><p>Run by {who} since 1998.</p>")


class SiteServer:
    """Serves `sites` (by host name) plus `routes` (by path, on any host)."""

    def __init__(
        self,
        sites: list[HotelSite],
        *,
        port: int = 0,
        routes: dict[str, Route] | None = None,
        search: bool = False,
    ) -> None:
        self.sites = {site.domain: site for site in sites}
        self.routes = dict(routes or {})
        if search:
            self.routes["/search/web/search"] = self._search
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.requests: list[tuple[str, str, str]] = []  # host, path, user agent
        self.request_headers: list[dict[str, str]] = []

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, host: str = "127.0.0.1", path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def start(self) -> SiteServer:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _search(self, handler: BaseHTTPRequestHandler) -> None:
        """A Brave-compatible search answer: the hotel whose name matches the query."""
        query = parse_qs(urlsplit(handler.path).query).get("q", [""])[0].lower()
        results = [
            {"url": self.url(site.domain), "title": site.name, "description": site.city}
            for site in self.sites.values()
            if site.name.lower() in query
        ]
        directory = {"url": "https://www.booking.com/hotel/x.html", "title": "Booking"}
        body = json.dumps({"web": {"results": [directory, *results]}}).encode()
        send(handler, 200, body, "application/json")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                host = self.headers.get("Host", "").rsplit(":", 1)[0].lower()
                path = urlsplit(self.path).path
                server.requests.append((host, path, self.headers.get("User-Agent", "")))
                server.request_headers.append(dict(self.headers))
                if path in server.routes:
                    server.routes[path](self)
                    return
                site = server.sites.get(host) or server.sites.get(host.removeprefix("www."))
                render = {"/": home_page, "/contact/": contact_page, "/about/": about_page}
                if site is None or path not in render:
                    send(self, 404, b"<html><title>Not found</title></html>")
                    return
                send(self, 200, render[path](site).encode())

            def log_message(self, *args) -> None:
                pass

        return Handler


def send(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "text/html"
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", f"{content_type}; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def demo_hotels() -> list[HotelSite]:
    """One site per demo prospect of `crm.demo` (its name, city and contact)."""
    from crm.demo_data import CITIES, CONTACTS, NAMES, WORDS

    hotels = []
    for index in range(50):
        city = CITIES[index % len(CITIES)][0]
        name = f"{NAMES[index % len(NAMES)]} {WORDS[index // 5 % len(WORDS)]} {city}"
        slug = name.lower().replace(" ", "")
        contact = CONTACTS[index % len(CONTACTS)]
        first = contact.split(" ")[0].lower()
        emails = [f"reservations@{slug}.example", f"info@{slug}.example"]
        if first:
            emails.insert(0, f"{first}@{slug}.example")
        hotels.append(HotelSite(name, city, f"{slug}.example", emails, contact))
    return hotels


# The demo inbox's domain (crm/demo.py): its SPF allows the local mail sink, so the
# deliverability checks let it send first touches.
DEMO_SENDING_DOMAIN = "jengu-demo.example"


class DemoResolver(StaticResolver):
    """The demo hotels' domains on 127.0.0.1, each with an MX, and the demo inbox's
    domain with SPF, DMARC and MX records; nothing else exists."""

    def __init__(self) -> None:
        domains = [site.domain for site in demo_hotels()]
        super().__init__(
            addresses={d: ["127.0.0.1"] for d in [*domains, DEMO_SENDING_DOMAIN]},
            mx={d: [(10, f"mx.{d}")] for d in [*domains, DEMO_SENDING_DOMAIN]},
            txt={
                DEMO_SENDING_DOMAIN: ["v=spf1 ip4:127.0.0.0/8 -all"],
                f"_dmarc.{DEMO_SENDING_DOMAIN}": ["v=DMARC1; p=none"],
            },
        )


def serve_demo_site(port: int = DEMO_PORT) -> None:
    """Serve the demo hotels (and a demo search endpoint) until interrupted."""
    server = SiteServer(demo_hotels(), port=port, search=True)
    print(f"[demo-site] {len(server.sites)} hotel sites on http://<hotel>.example:{server.port}/")
    try:
        server.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEMO_PORT)
    serve_demo_site(parser.parse_args().port)
