"""Finding addresses on a site: extraction, obfuscations, ownership, ranking, guesses."""

import pytest

from enrichment.addresses import addresses_in, clean_address, deobfuscate
from enrichment.demo_site import bracketed, cloudflare, entity_encoded
from enrichment.emails import EmailFinder, classify, pattern_guesses
from enrichment.fetch import Fetcher
from enrichment.links import contact_links
from enrichment.ownership import agency_credit, named_after, on_site, third_party_reason
from enrichment.pages import parse_page
from enrichment.website import Site


def found(html: str) -> dict[str, str]:
    return {found.address: found.how for found in addresses_in(parse_page(html))}


class TestExtraction:
    def test_mailto_with_subject_and_several_recipients(self):
        html = '<a href="mailto:Info@Hotel.PT,sales@hotel.pt?subject=Hi">write</a>'
        assert found(html) == {"info@hotel.pt": "mailto", "sales@hotel.pt": "mailto"}

    def test_html_entities_are_decoded(self):
        assert found(f"<p>{entity_encoded('ana.costa@hotel.pt')}</p>") == {
            "ana.costa@hotel.pt": "text"
        }

    @pytest.mark.parametrize(
        "written",
        ["info [at] hotel [dot] pt", "info(at)hotel(dot)pt", "info {at} hotel {dot} pt",
         "info at hotel dot pt", "info [@] hotel [.] pt", "info[arroba]hotel[punto]pt"],
    )  # fmt: skip
    def test_obfuscated_addresses_are_read(self, written):
        assert found(f"<p>Write to {written} today</p>") == {"info@hotel.pt": "obfuscated"}

    def test_cloudflare_protected_address_is_decoded(self):
        assert found(cloudflare("sales@hotel.pt")) == {"sales@hotel.pt": "cloudflare"}

    def test_ordinary_prose_with_at_is_not_an_address(self):
        assert found("<p>Meet us at the bar at noon. Dot the i's.</p>") == {}

    def test_image_names_and_styles_are_ignored(self):
        html = '<img src="logo@2x.png"><p>logo@2x.png</p><style>a[x="a@b.com"]{}</style>'
        assert found(html) == {}

    def test_deobfuscate_leaves_real_addresses_alone(self):
        assert deobfuscate("info@hotel.pt") == "info@hotel.pt"
        assert deobfuscate(bracketed("a.b@c.co.uk")) == "a.b@c.co.uk"


class TestRanking:
    @pytest.mark.parametrize(
        ("local", "kind"),
        [("ana.costa", "personal_contact"), ("acosta", "personal"), ("costa", "personal_contact"),
         ("maria", "personal"), ("reservas", "role"), ("sales", "role"), ("info", "generic"),
         ("hello", "generic"), ("privacy", "avoid"), ("jobs", "avoid")],
    )  # fmt: skip
    def test_classification(self, local, kind):
        assert classify(local, "Ana Costa") == kind

    def test_ownership(self):
        assert on_site("casaazul.pt", "casaazul.pt")
        assert on_site("mail.casaazul.pt", "casaazul.pt")
        assert on_site("casaazul.com", "casaazul.pt")  # same name, other TLD
        assert not on_site("booking.com", "casaazul.pt")
        assert not on_site("gmail.com", "casaazul.pt")

    def test_pattern_guesses_need_a_contact_name(self):
        assert pattern_guesses("Ana Costa", "h.pt") == ["ana.costa@h.pt", "ana@h.pt", "acosta@h.pt"]
        assert pattern_guesses("José", "h.pt") == ["jose@h.pt"]
        assert pattern_guesses("", "h.pt") == []
        assert pattern_guesses("Ana Costa", "") == []


def test_contact_links_are_found_from_links_not_guessed_paths():
    html = (
        '<a href="/quem-somos/">Sobre nós</a><a href="/rooms/">Rooms</a>'
        '<a href="https://casaazul.pt/kontakt">Write</a><a href="https://other.pt/contact">x</a>'
        '<a href="mailto:a@b.pt">mail</a><a href="/impressum#top">Impressum</a>'
    )
    links = contact_links(parse_page(html), "https://casaazul.pt/", "casaazul.pt")
    assert links == [
        "https://casaazul.pt/kontakt",
        "https://casaazul.pt/impressum",
        "https://casaazul.pt/quem-somos/",
    ]


def test_crawl_of_the_fixture_hotel_ranks_what_it_finds(sites, loopback_allowed):
    url = sites.url("casaazul.pt")
    with Fetcher(resolver=sites.resolver()) as fetcher:
        home = fetcher.get(url)
        site = Site(url, "casaazul.pt", "provided", 1.0, "", home, parse_page(home.text))
        result = EmailFinder(fetcher=fetcher).find(site=site, contact_name="Ana Costa")
    ranked = [(c["email"], c["kind"], c["source"]) for c in result.candidates]
    assert ranked == [
        ("ana.costa@casaazul.pt", "personal_contact", "text"),
        ("reservas@casaazul.pt", "role", "mailto"),
        ("sales@casaazul.pt", "role", "cloudflare"),
        ("info@casaazul.pt", "generic", "obfuscated"),
        ("ana@casaazul.pt", "guess", "pattern"),
        ("acosta@casaazul.pt", "guess", "pattern"),
    ]
    assert {r["email"]: r["reason"] for r in result.rejected} == {
        "partners@booking.com": "not on casaazul.pt",
        "noreply@casaazul.pt": "no-reply address",
    }
    assert [p["url"] for p in result.pages] == [url, url + "contact/", url + "about/"]
    assert all(c["page"] == url + "contact/" for c in result.candidates if c["kind"] != "guess")


class TestHiddenAndGluedAddresses:
    @pytest.mark.parametrize(
        ("raw", "clean"),
        [("info@krone.chLandgasthof", "info@krone.ch"),
         ("info@krone.chlandgasthof", "info@krone.ch"),
         ("info@krone.ch.Wir", "info@krone.ch"), ("INFO@HOTEL.CH", "info@hotel.ch"),
         ("a@hotel.co.uk", "a@hotel.co.uk"), ("a@hotel.swiss", "a@hotel.swiss"),
         ("a@demo.example", "a@demo.example"), ("logo@2x.png", None), ("a@b.zzzzzz", None)],
    )  # fmt: skip
    def test_an_address_ends_where_a_real_tld_ends(self, raw, clean):
        assert clean_address(raw) == clean

    def test_the_user_part_of_a_url_is_not_an_address(self):
        html = "<p>See https://key123@o45.ingest.sentry.io/1 or write to info@hotel.ch</p>"
        assert found(html) == {"info@hotel.ch": "text"}

    @pytest.mark.parametrize(
        "script",
        ["var u='info', d='hotel'+'.'+'ch'; document.write(u+'@'+d);",
         "a.href='mailto:' + 'info' + '\\x40' + 'hotel.ch';",
         "a.href='mailto:'+String.fromCharCode(105,110,102,111,64,104,111,116,101,108,46,99,104);",
         'window.__DATA__ = {"email": "info\\u0040hotel.ch"};'],
    )  # fmt: skip
    def test_addresses_built_by_scripts_are_read(self, script):
        assert found(f"<script>{script}</script>") == {"info@hotel.ch": "script"}

    def test_schema_org_email_is_read(self):
        html = '<script type="application/ld+json">{"email": "mailto:Info@Hotel.ch"}</script>'
        assert found(html) == {"info@hotel.ch": "json-ld"}


class TestWhoseAddress:
    @pytest.mark.parametrize(
        ("address", "reason"),
        [("example@example.com", "placeholder address"),
         ("info@sub.example.org", "placeholder address"),
         ("max.mustermann@krone.ch", "placeholder address"),
         ("605a7baede844d278b89dc95ae0a9123@sentry-next.wixpress.com",
          "tracking or error-reporting service"),
         ("x@o123.ingest.sentry.io", "tracking or error-reporting service"),
         ("a1b2c3d4e5f6a7b8c9d0@krone.ch", "a key, not a mailbox"),
         ("wordpress@krone.ch", "sent by website software, nobody reads it"),
         ("info@krone.ch", None), ("beef@krone.ch", None), ("anna.keller@krone.ch", None)],
    )  # fmt: skip
    def test_third_party_reasons(self, address, reason):
        assert third_party_reason(address) == reason

    @pytest.mark.parametrize(
        ("address", "named"),
        [("info@alpenrose.ch", True), ("info@hotel-alpenrose-wengen.ch", True),
         ("hotel.alpenrose@bluewin.ch", True), ("info@bluewin.ch", False),
         ("hello@pixelwerk.ch", False), ("info@rose.ch", False)],
    )  # fmt: skip
    def test_addresses_named_after_the_business(self, address, named):
        assert named_after(address, "Hotel Alpenrose") is named

    def test_a_credit_just_before_an_address_marks_an_agency(self):
        assert agency_credit("Website by Linde Media: ")
        assert agency_credit("Webdesign: ")
        assert not agency_credit("Hotel Linde, Baden. Write to us: ")
