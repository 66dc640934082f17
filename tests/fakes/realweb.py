"""Loopback websites that behave like the real web, each with the address a user wants.

`REAL_WEB` lists small-business sites the way they are found in the wild: bodies
compressed with gzip, deflate (with and without the zlib header) or brotli;
charsets declared only in `<meta>`, not at all, or wrongly; addresses on `/kontakt`,
`/contact-us`, `/impressum`, `/en/contact/`, behind `www.` redirects, in JSON-LD, in
JavaScript, spelled with "(at)"; next to web agency credits, form placeholders and
Sentry keys; in minified and broken markup; a namesake in another city on the
domain a guess tries first; a compression bomb and a server that drips its headers
on domains tried before the real one. `Fixture.expected` is the business's own
address, or "" where the right outcome is to take none.

`RealWebServer` serves them all on 127.0.0.1 by Host header; `resolver()` maps each
host to 127.0.0.1 and gives every mail domain of the set an MX, so a wrong choice
would pass local validation and be counted as wrong.
"""

from __future__ import annotations

import gzip
import html
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import brotli

from enrichment.demo_site import cloudflare, entity_encoded
from jengu.dns import StaticResolver
from tests.fakes.loopback import LoopbackHTTPServer


@dataclass(frozen=True)
class Page:
    body: str = ""
    charset: str | None = "utf-8"  # the Content-Type header's; None: not declared there
    encode_as: str = "utf-8"  # the bytes actually sent
    coding: str = ""  # gzip | deflate | raw-deflate | br
    status: int = 200
    location: str = ""  # here and in the body, "{port}" is replaced by the server's port
    behaviour: str = ""  # drip-headers | gzip-bomb
    bom: bool = False


@dataclass(frozen=True)
class Fixture:
    case: str
    name: str
    city: str
    country: str
    expected: str
    pages: dict[str, Page] = field(default_factory=dict)  # "host/path?query" -> page
    contact_name: str = ""
    website: str = ""  # given with the prospect; "{port}" is replaced

    @property
    def prospect_fields(self) -> dict:
        return {"business_name": self.name, "city": self.city, "country": self.country,
                "contact_name": self.contact_name, "email": ""}  # fmt: skip


def doc(title: str, body: str, head: str = "", charset: str = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{html.escape(title)}</title>{head}</head>"
        f"<body>{body}</body></html>"
    )


def home(name: str, city: str, extra: str = "", links: str = "", **kwargs) -> str:
    nav = links or '<nav><a href="/">Home</a> <a href="/zimmer/">Zimmer</a></nav>'
    body = f"{nav}<h1>{name}</h1><p>Willkommen in {city}.</p>{extra}"
    return doc(f"{name} – {city}", body, **kwargs)


def footer(*links: str) -> str:
    return "<footer>" + " | ".join(links) + "</footer>"


def jsonld(data: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


BROKEN_MARKUP = (
    "<![ if !IE ]><link rel=stylesheet href=/x.css><![endif]>"
    "<!--[if lt IE 9]><script src=html5shiv.js></script><![endif]-->"
)
GARBAGE_MARKUP = "<p>\x00\x01\x02\x7f</p><![CDATA[ never closed <p>stray <! bang <!x-y"
SENTRY = (
    "<script>Sentry.init({dsn:'https://605a7baede844d278b89dc95ae0a9123@sentry-next"
    '.wixpress.com/12\'});var cfg={"ownerId":"a1b2c3d4e5f6a7b8c9d0e1f2@waldhaus.ch",'
    '"sender":"wordpress@waldhaus.ch"};</script>'
)

# One fixture per line group, as a table: formatting would spread it over 700 lines.
# fmt: off
REAL_WEB: list[Fixture] = [
    Fixture("gzip home page", "Hotel Adler", "Luzern", "CH", "info@adler.ch", {
        "adler.ch/": Page(home("Hotel Adler", "Luzern",
                               '<a href="mailto:info@adler.ch">E-Mail</a>'), coding="gzip"),
    }),
    Fixture("deflate contact page", "Hotel Sternen", "Bern", "CH", "reception@sternen.ch", {
        "sternen.ch/": Page(home("Hotel Sternen", "Bern",
                                 links='<a href="/kontakt/">Kontakt</a>'), coding="deflate"),
        "sternen.ch/kontakt/": Page(doc("Kontakt", '<a href="mailto:reception@sternen.ch">'
                                    "reception@sternen.ch</a>"), coding="deflate"),
    }),
    Fixture("raw deflate without zlib header", "Pension Alpina", "Davos", "CH",
            "rezeption@alpina.ch", {
        "alpina.ch/": Page(home("Pension Alpina", "Davos", "<p>rezeption@alpina.ch</p>"),
                           coding="raw-deflate"),
    }),
    Fixture("brotli everywhere", "Hotel Seeblick", "Zell am See", "AT", "info@seeblick.at", {
        "seeblick.at/": Page(home("Hotel Seeblick", "Zell am See", links=footer(
            '<a href="/kontakt">Kontakt</a>')), coding="br"),
        "seeblick.at/kontakt": Page(doc("Kontakt", "<p>Mail: info@seeblick.at</p>"),
                                    coding="br"),
    }),
    Fixture("gzip contact page only", "Hotel Poststube", "Lech", "AT", "office@poststube.at", {
        "poststube.at/": Page(home("Hotel Poststube", "Lech",
                                   links='<a href="/contact/">Contact</a>')),
        "poststube.at/contact/": Page(doc("Contact", "<p>office@poststube.at</p>"),
                                      coding="gzip"),
    }),
    Fixture("windows-1252 declared only in <meta>", "Gasthof Löwen", "Zürich", "CH",
            "info@loewen.ch", {
        "loewen.ch/": Page(home("Gasthof Löwen", "Zürich", "<p>Grüezi! info@loewen.ch</p>",
                                charset="windows-1252"), charset=None, encode_as="cp1252"),
    }),
    Fixture("windows-1252 declared nowhere", "Hôtel du Lac", "Genève", "CH",
            "reception@lac.ch", {
        "lac.ch/": Page(doc("Hôtel du Lac – Genève", "<h1>Hôtel du Lac</h1><p>Genève, "
                            "réservation: reception@lac.ch</p>", charset=""),
                        charset=None, encode_as="cp1252"),
    }),
    Fixture("iso-8859-1 in http-equiv", "Albergo Città", "Lugano", "CH", "info@citta.ch", {
        "citta.ch/": Page(doc("Albergo Città – Lugano", "<h1>Albergo Città</h1><p>Lugano. "
                              "Scriveteci: info@citta.ch</p>", charset="",
                              head='<meta http-equiv="Content-Type" '
                                   'content="text/html; charset=iso-8859-1">'),
                          charset=None, encode_as="cp1252"),
    }),
    Fixture("UTF-8 byte-order mark, non-ASCII name", "Hostal Ñandú", "Sevilla", "ES",
            "reservas@nandu.es", {
        "nandu.es/": Page(doc("Hostal Ñandú · Sevilla", "<h1>Hostal Ñandú</h1><p>Sevilla. "
                              '<a href="mailto:reservas@nandu.es">Reservas</a></p>', charset=""),
                          charset=None, bom=True),
    }),
    Fixture("header says UTF-8, bytes are windows-1252", "Café Müller", "Wien", "AT",
            "office@mueller.at", {
        "mueller.at/": Page(doc("Café Müller", "<h1>Café Müller</h1><p>Wien. Kontakt: "
                                "office@mueller.at</p>", charset=""), encode_as="cp1252"),
    }),
    Fixture("/kontakt linked from the footer", "Hotel Hirschen", "Wildhaus", "CH",
            "info@hirschen.ch", {
        "hirschen.ch/": Page(home("Hotel Hirschen", "Wildhaus", links=footer(
            '<a href="/agb">AGB</a>', '<a href="/kontakt">Kontakt</a>'))),
        "hirschen.ch/kontakt": Page(doc("Kontakt", "<p>Schreiben Sie uns: info@hirschen.ch</p>")),
    }),
    Fixture("/contact-us", "Harbour Inn", "Portree", "GB", "stay@harbour.co.uk", {
        "harbour.co.uk/": Page(home("Harbour Inn", "Portree",
                                    links='<a href="/contact-us">Get in touch</a>')),
        "harbour.co.uk/contact-us": Page(doc("Contact us", "<p>stay@harbour.co.uk</p>")),
    }),
    Fixture("/impressum with (at) and (dot)", "Hotel Rössli", "Weggis", "CH",
            "info@roessli.ch", {
        "roessli.ch/": Page(home("Hotel Rössli", "Weggis",
                                 links=footer('<a href="/impressum">Impressum</a>'))),
        "roessli.ch/impressum": Page(doc("Impressum", "<p>E-Mail: info(at)roessli(dot)ch</p>")),
    }),
    Fixture("/en/contact/ behind a language redirect", "Hotel Bristol", "Wengen", "CH",
            "reservation@bristol.ch", {
        "bristol.ch/": Page(status=302, location="/en/"),
        "bristol.ch/en/": Page(home("Hotel Bristol", "Wengen",
                                    links='<a href="/en/contact/">Contact</a>')),
        "bristol.ch/en/contact/": Page(doc("Contact", '<a href="mailto:reservation@bristol.ch">'
                                       "Write to us</a>")),
    }),
    Fixture("www. redirect with absolute links", "Hotel Schwanen", "Rapperswil", "CH",
            "info@schwanen.ch", {
        "schwanen.ch/": Page(status=301, location="http://www.schwanen.ch:{port}/"),
        "www.schwanen.ch/": Page(home("Hotel Schwanen", "Rapperswil", links=(
            '<a href="http://www.schwanen.ch:{port}/kontakt/">Kontakt</a>'))),
        "www.schwanen.ch/kontakt/": Page(doc("Kontakt", "<p>info@schwanen.ch</p>")),
    }),
    Fixture("JSON-LD email, city only in structured data", "Hotel Bären", "Brienz", "CH",
            "hotel@baeren.ch", {
        "baeren.ch/": Page(doc("Hotel Bären", "<h1>Hotel Bären</h1><p>Am See.</p>", head=jsonld(
            {"@context": "https://schema.org", "@type": "Hotel", "name": "Hotel Bären",
             "email": "mailto:hotel@baeren.ch",
             "address": {"@type": "PostalAddress", "addressLocality": "Brienz"}}))),
    }),
    Fixture("JavaScript joining variables", "Gasthaus Ochsen", "Kriens", "CH",
            "info@ochsen.ch", {
        "ochsen.ch/": Page(home("Gasthaus Ochsen", "Kriens", "<script>var u='info';"
                                "var d='ochsen'+'.'+'ch';document.write('<a href=\"mailto:'"
                                "+u+'@'+d+'\">'+u+'@'+d+'</a>');</script>")),
    }),
    Fixture("JavaScript String.fromCharCode", "Hotel Engel", "Stans", "CH", "info@engel.ch", {
        "engel.ch/": Page(home("Hotel Engel", "Stans", "<script>document.getElementById('m')"
                               ".href='mailto:'+String.fromCharCode(" +
                               ",".join(str(ord(c)) for c in "info@engel.ch") + ");</script>")),
    }),
    Fixture("minified markup gluing words to the address", "Landgasthof Krone", "Wil", "CH",
            "info@krone.ch", {
        "krone.ch/": Page(doc("Landgasthof Krone Wil", "<div>Mail: <b>info@krone.ch</b></div>"
                              "Landgasthof Krone, Wil<p><span>info@krone.ch</span>landgasthof"
                              "</p>")),
    }),
    Fixture("web agency credits in the footer", "Hotel Linde", "Baden", "CH", "info@linde.ch", {
        "linde.ch/": Page(home("Hotel Linde", "Baden", links=footer(
            '<a href="/kontakt">Kontakt</a>',
            'Webdesign by <a href="mailto:hello@pixelwerk.ch">Pixelwerk</a>',
            "Website by Linde Media: studio@lindemedia.ch"))),
        "linde.ch/kontakt": Page(doc("Kontakt", "<p>info [at] linde [dot] ch</p>")),
    }),
    Fixture("form placeholders", "Hotel Rigi", "Vitznau", "CH", "welcome@rigi.ch", {
        "rigi.ch/": Page(home("Hotel Rigi", "Vitznau", "<form><label>E-Mail (z.B. "
                              "example@example.com)</label><p>Muster: max.mustermann@rigi.ch"
                              '</p></form><p><a href="mailto:welcome@rigi.ch">Mail</a></p>')),
    }),
    Fixture("Sentry key and site-builder addresses in scripts", "Hotel Waldhaus", "Sils",
            "CH", "info@waldhaus.ch", {
        "waldhaus.ch/": Page(home("Hotel Waldhaus", "Sils", SENTRY + "<p>info@waldhaus.ch</p>")),
    }),
    Fixture("namesake on the first guessed domain", "Restaurant Bellevue", "Bern", "CH",
            "kontakt@bellevue-bern.ch", {
        "bellevue-bern.ch/": Page(home("Restaurant Bellevue", "Bern",
                                       "<p>kontakt@bellevue-bern.ch</p>")),
    }),
    Fixture("namesake only: no site of its own", "Hotel Bellevue", "Zermatt", "CH", ""),
    Fixture("conditional comments", "Hotel Sonne", "Thun", "CH", "info@sonne.ch", {
        "sonne.ch/": Page(home("Hotel Sonne", "Thun", BROKEN_MARKUP +
                               '<a href="mailto:info@sonne.ch">Mail</a>')),
    }),
    Fixture("unclosed CDATA, stray <!, binary bytes", "Hotel Falken", "Thun", "CH",
            "info@falken.ch", {
        "falken.ch/": Page(home("Hotel Falken", "Thun", "<p>info@falken.ch</p>" +
                                GARBAGE_MARKUP)),
    }),
    Fixture("gzip bomb on the first guessed domain", "Hotel Tell", "Altdorf", "CH",
            "info@hoteltell.ch", {
        "tell.ch/": Page(behaviour="gzip-bomb"),
        "hoteltell.ch/": Page(home("Hotel Tell", "Altdorf", "<p>info@hoteltell.ch</p>")),
    }),
    Fixture("headers dripping on the first guessed domain", "Hotel Rebstock", "Malans", "CH",
            "info@hotelrebstock.ch", {
        "rebstock.ch/": Page(behaviour="drip-headers"),
        "hotelrebstock.ch/": Page(home("Hotel Rebstock", "Malans",
                                       "<p>info@hotelrebstock.ch</p>")),
    }),
    Fixture("Cloudflare e-mail protection", "Hotel Kreuz", "Sachseln", "CH", "info@kreuz.ch", {
        "kreuz.ch/": Page(home("Hotel Kreuz", "Sachseln", cloudflare("info@kreuz.ch"))),
    }),
    Fixture("HTML entities", "Hotel Metropol", "Zug", "CH", "info@metropol.ch", {
        "metropol.ch/": Page(home("Hotel Metropol", "Zug",
                                  f"<p>{entity_encoded('info@metropol.ch')}</p>")),
    }),
    Fixture("<base href> and a relative contact link", "Hotel Eiger", "Grindelwald", "CH",
            "info@eiger.ch", {
        "eiger.ch/": Page(home("Hotel Eiger", "Grindelwald", head='<base href="/de/">',
                               links='<a href="kontakt.html">Kontakt</a>')),
        "eiger.ch/de/kontakt.html": Page(doc("Kontakt", "<p>info@eiger.ch</p>")),
    }),
    Fixture("imprint behind a query-string URL", "Hotel Traube", "Weinfelden", "CH",
            "info@traube.ch", {
        "traube.ch/": Page(home("Hotel Traube", "Weinfelden",
                                links='<a href="/index.php?id=7">Impressum</a>')),
        "traube.ch/index.php?id=7": Page(doc("Impressum", "<p>info@traube.ch</p>")),
    }),
    Fixture("the contact's own address beats info@", "Hotel Hecht", "Appenzell", "CH",
            "anna.keller@hecht.ch", {
        "hecht.ch/": Page(home("Hotel Hecht", "Appenzell", "<p>info@hecht.ch</p><p>Gastgeberin"
                               " Anna Keller: anna.keller@hecht.ch</p>")),
    }, contact_name="Anna Keller"),
    Fixture("only a free-mail address, named after the business", "Pension Edelweiss",
            "Saas-Fee", "CH", "pension.edelweiss@bluewin.ch", {
        "edelweiss-saasfee.ch/": Page(home("Pension Edelweiss", "Saas-Fee",
                                           "<p>pension.edelweiss@bluewin.ch</p>")),
    }, website="http://edelweiss-saasfee.ch:{port}/"),
    Fixture("mail domain differs from the website's", "Hotel Alpenrose", "Wengen", "CH",
            "info@alpenrose.ch", {
        "hotel-alpenrose-wengen.ch/": Page(home("Hotel Alpenrose", "Wengen",
                                                "<p>info@alpenrose.ch</p>")),
    }, website="http://hotel-alpenrose-wengen.ch:{port}/"),
    Fixture("upper-case address", "Hotel Gotthard", "Andermatt", "CH", "info@gotthard.ch", {
        "gotthard.ch/": Page(doc("HOTEL GOTTHARD ANDERMATT", "<p>INFO@GOTTHARD.CH</p>")),
    }),
    Fixture("no links (JavaScript menu): the usual paths", "Hotel Drei Könige", "Chur", "CH",
            "info@dreikoenige.ch", {
        "dreikoenige.ch/": Page(doc("Hotel Drei Könige Chur", "<div id=app>Hotel Drei Könige, "
                                    "Chur</div>")),
        "dreikoenige.ch/kontakt": Page(doc("Kontakt", "<p>info@dreikoenige.ch</p>")),
    }),
    Fixture("city only in the imprint", "Hotel Bahnhof", "Sargans", "CH", "info@bahnhof.ch", {
        "bahnhof.ch/": Page(doc("Hotel Bahnhof", "<h1>Hotel Bahnhof</h1><p>Direkt am Gleis 1."
                                '</p><a href="/impressum">Impressum</a>')),
        "bahnhof.ch/impressum": Page(doc("Impressum", "<p>Hotel Bahnhof, 7320 Sargans, "
                                     "info@bahnhof.ch</p>")),
    }),
    Fixture("only a booking engine's address", "Hotel Schiff", "Mannenbach", "CH", "", {
        "schiff.ch/": Page(home("Hotel Schiff", "Mannenbach", "<p>Buchung über "
                                "reservations@booking-engine.com</p>")),
    }),
]

# The "Bellevue" in Luzern that guesses for the Bellevues of Bern and Zermatt reach first.
DECOYS: dict[str, Page] = {
    "bellevue.ch/": Page(home("Restaurant Bellevue", "Luzern", '<a href="mailto:info@bellevue.ch">'
                              "Reservieren</a>", links='<a href="/kontakt">Kontakt</a>')),
    "bellevue.ch/kontakt": Page(doc("Kontakt", "<p>Restaurant Bellevue, 6004 Luzern</p>")),
}
OTHER_MAIL_DOMAINS = ["bluewin.ch", "alpenrose.ch", "pixelwerk.ch", "lindemedia.ch",
                      "booking-engine.com", "example.com"]
# fmt: on


@cache
def gzip_bomb() -> bytes:
    """20 MB of spaces in about 20 kB: what a hostile server sends a crawler."""
    return gzip.compress(b" " * 20_000_000, compresslevel=9)


def encoded(page: Page, port: int) -> tuple[bytes, str]:
    body = page.body.replace("{port}", str(port)).encode(page.encode_as)
    if page.bom:
        body = b"\xef\xbb\xbf" + body
    compress = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "raw-deflate": lambda b: zlib.compress(b)[2:-4],
        "br": brotli.compress,
    }
    if page.coding:
        body = compress[page.coding](body)
    return body, {"raw-deflate": "deflate"}.get(page.coding, page.coding)


class RealWebServer(LoopbackHTTPServer):
    def __init__(self, fixtures: list[Fixture] | None = None) -> None:
        self.fixtures = REAL_WEB if fixtures is None else fixtures
        self.pages = dict(DECOYS)
        for fixture in self.fixtures:
            self.pages.update(fixture.pages)
        self.released = threading.Event()
        self.requests: list[str] = []
        super().__init__()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        self.released.set()
        super().stop()

    def hosts(self) -> list[str]:
        return sorted({key.split("/", 1)[0] for key in self.pages})

    def resolver(self) -> StaticResolver:
        hosts = self.hosts()
        mail = [h.removeprefix("www.") for h in hosts] + OTHER_MAIL_DOMAINS
        return StaticResolver(
            addresses={h: ["127.0.0.1"] for h in hosts}, mx={d: [(10, f"mx.{d}")] for d in mail}
        )

    def website(self, fixture: Fixture) -> str:
        return fixture.website.replace("{port}", str(self.port))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                host = self.headers.get("Host", "").rsplit(":", 1)[0].lower()
                server.requests.append(f"{host}{self.path}")
                parts = urlsplit(self.path)
                key = f"{host}{parts.path}" + (f"?{parts.query}" if parts.query else "")
                page = server.pages.get(key) or server.pages.get(f"{host}{parts.path}")
                if page is None:
                    self.reply(Page(doc("Not found", "<h1>404</h1>"), status=404))
                elif page.behaviour == "drip-headers":
                    server.drip_headers(self)
                elif page.behaviour == "gzip-bomb":
                    self.send(200, gzip_bomb(), "text/html; charset=utf-8", "gzip")
                else:
                    self.reply(page)

            def reply(self, page: Page) -> None:
                body, coding = encoded(page, server.port)
                content_type = "text/html" + (f"; charset={page.charset}" if page.charset else "")
                location = page.location.replace("{port}", str(server.port))
                self.send(page.status, body, content_type, coding, location)

            def send(self, status, body, content_type, coding="", location="") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if coding:
                    self.send_header("Content-Encoding", coding)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def drip_headers(self, handler: BaseHTTPRequestHandler) -> None:
        """A status line, then one header byte every 50 ms, for as long as anyone listens."""
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Padding: ")
            while not self.released.is_set():
                handler.wfile.write(b"a")
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass  # the client gave up: that is the point
        handler.close_connection = True
