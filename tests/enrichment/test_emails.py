"""Finding addresses on a site: extraction, obfuscations, ownership, ranking, guesses."""

import pytest

from enrichment.addresses import addresses_in, deobfuscate
from enrichment.demo_site import bracketed, cloudflare, entity_encoded
from enrichment.emails import EmailFinder, classify, pattern_guesses
from enrichment.fetch import Fetcher
from enrichment.links import contact_links
from enrichment.ownership import on_site
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
