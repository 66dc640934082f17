"""Reading pages: broken markup never stops a run, and words never glue onto addresses."""

import random

import pytest

from enrichment.addresses import addresses_in
from enrichment.charsets import decode_html
from enrichment.pages import PageUnreadable, parse_page

ADDRESS = '<p>Mail: <a href="mailto:info@krone.ch">info@krone.ch</a></p>'
BROKEN = {
    "downlevel-revealed conditional comment": "<![ if !IE ]><p>new</p><![endif]>",
    "conditional comment without spaces": "<![if gte IE 9]><link href=a.css><![endif]>",
    "downlevel-hidden conditional comment": "<!--[if lt IE 9]><script src=x.js></script>"
    "<![endif]-->",
    "unclosed CDATA": "<![CDATA[ var x = '<p>never closed",
    "stray <!": "<p>a <! b</p><!",
    "bogus declaration": "<!x-y z><!ELEMENT p>",
    "unclosed comment": "<!-- never closed <p>",
    "binary bytes": "\x00\x01\x02\x7f\x80\ufffd" + "".join(map(chr, range(0x80, 0x100))),
    "unterminated attribute": "<a href=\"/kontakt>Kontakt</a><p title='x>y",
    "unclosed script": "<script>var a = '</p>';",
    "XML prolog and processing instruction": "<?xml version='1.0'?><?php echo 1 ?>",
    "nesting 20,000 deep": "<div>" * 20_000 + "deep" + "</div>" * 5,
    "a lone <": "<p>1 < 2 and 3 <</p><",
    "end tags only": "</p></div></body></html></a>",
    "svg and math": "<svg><title>x</title><foreignObject><p>y</p></svg><math><mi>z",
}


# What browsers hide after these (the rest of the page is inside them), we do too.
SWALLOWS_THE_REST = {"unclosed comment"}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_markup_is_read_and_the_address_still_found(name):
    pages = [ADDRESS + BROKEN[name]]
    if name not in SWALLOWS_THE_REST:
        pages.append(BROKEN[name] + ADDRESS)
    for html in pages:
        parsed = parse_page(html)
        assert "info@krone.ch" in {found.address for found in addresses_in(parsed)}


def test_random_bytes_never_raise_anything_but_page_unreadable():
    generator = random.Random(1)
    for _ in range(200):
        raw = bytes(generator.randrange(256) for _ in range(generator.randrange(2000)))
        text, _ = decode_html(b"<p>" + raw, header_charset=None)
        parse_page(text)  # a ParsedPage, whatever the bytes


def test_a_parser_failure_is_reported_as_an_unreadable_page():
    # lexbor reads every string, however broken; input of the wrong type is the one
    # way left to make it fail, and the failure must still come out as PageUnreadable.
    with pytest.raises(PageUnreadable) as caught:
        parse_page(None)
    assert "TypeError" in str(caught.value)


@pytest.mark.parametrize(
    "html",
    [
        "<div>Mail: <b>info@krone.ch</b></div>Landgasthof Krone",
        "<a href='/x'>info@krone.ch</a><span>Landgasthof</span>",
        "<td>info@krone.ch</td><td>landgasthof</td>",
        "<p><span>info@krone.ch</span>landgasthof</p>",
        "<p>info@krone.chLandgasthof Krone</p>",
        "<p>Schreiben Sie an info@krone.ch.Wir freuen uns</p>",
    ],
)
def test_words_glued_onto_an_address_are_cut_off(html):
    assert [found.address for found in addresses_in(parse_page(html))] == ["info@krone.ch"]


def test_inline_elements_inside_a_word_keep_it_whole():
    parsed = parse_page("<p>info<span>@</span>krone<b>.</b>ch</p>")
    assert [found.address for found in addresses_in(parsed)] == ["info@krone.ch"]


def test_structured_data_meta_and_links_are_read():
    parsed = parse_page(
        '<head><base href="/de/"><meta name="description" content="Am See in Brienz">'
        '<script type="application/ld+json">{"@type": "Hotel", "email": "mailto:a@b.ch", '
        '"address": {"addressLocality": "Brienz"}}</script>'
        '<script type="application/ld+json">{broken</script></head>'
        '<body><footer>Webdesign by <a href="mailto:x@agency.ch">Agency</a></footer></body>'
    )
    assert parsed.structured_emails == ["a@b.ch"]
    assert "Brienz" in parsed.extra_text
    assert "Am See in Brienz" in parsed.extra_text
    assert parsed.base_href == "/de/"
    assert (parsed.links[0].before, parsed.links[0].text) == ("Webdesign by", "Agency")


@pytest.mark.parametrize(
    ("body", "header", "expected", "codec"),
    [
        ("<meta charset='windows-1252'><p>Zürich</p>".encode("cp1252"), None, "Zürich", "cp1252"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>Genève €'
         .encode("cp1252"), None, "Genève €", "cp1252"),
        ("<p>Hôtel du Lac, Genève, réservation à la réception</p>".encode("cp1252"), None,
         "Hôtel du Lac", "cp1252"),
        ("<p>Café Müller, Wien</p>".encode("cp1252"), "utf-8", "Café Müller", "cp1252"),
        (b"\xef\xbb\xbf<p>\xc3\x91and\xc3\xba</p>", None, "Ñandú", "utf-8-sig"),
        ("<p>Гостиница Москва, бронирование номеров</p>".encode("cp1251"), None, "Москва",
         "cp1251"),
        ("<p>Zürich</p>".encode(), "latin1", "ZÃ¼rich", "cp1252"),  # the header wins
        ("<p>Zürich</p>".encode(), "no-such-charset", "Zürich", "utf-8"),
    ],
)  # fmt: skip
def test_charsets_are_read_as_browsers_read_them(body, header, expected, codec):
    text, used = decode_html(body, header_charset=header)
    assert expected in text
    assert used == codec.replace("utf-8-sig", "utf-8")
