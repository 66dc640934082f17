"""Reading an HTML page: title, visible text, links and Cloudflare-protected addresses.

The standard library's tolerant `HTMLParser` is enough for the few pages per
prospect we read, and it never fails on broken markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})


@dataclass
class Link:
    href: str
    text: str


@dataclass
class ParsedPage:
    title: str = ""
    text: str = ""
    links: list[Link] = field(default_factory=list)
    protected_emails: list[str] = field(default_factory=list)


def decode_cfemail(encoded: str) -> str:
    """Cloudflare's e-mail obfuscation: a hex key byte XORed over the address."""
    try:
        data = bytes.fromhex(encoded)
    except ValueError:
        return ""
    if not data:
        return ""
    return bytes(b ^ data[0] for b in data[1:]).decode("utf-8", errors="ignore")


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self.text_parts: list[str] = []
        self.title_parts: list[str] = []
        self.skip_depth = 0
        self.in_title = False
        self.open_link: Link | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in SKIPPED_TAGS:
            self.skip_depth += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "a":
            self.open_link = Link(href=attributes.get("href", "").strip(), text="")
            self.page.links.append(self.open_link)
        if "data-cfemail" in attributes:
            self.page.protected_emails.append(decode_cfemail(attributes["data-cfemail"]))
        elif "/cdn-cgi/l/email-protection#" in attributes.get("href", ""):
            encoded = attributes["href"].rsplit("#", 1)[1]
            self.page.protected_emails.append(decode_cfemail(encoded))
        if tag in ("br", "p", "div", "li", "td", "tr", "h1", "h2", "h3", "address"):
            self.text_parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self.skip_depth:
            self.skip_depth -= 1
        elif tag == "title":
            self.in_title = False
        elif tag == "a":
            self.open_link = None

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
        if self.skip_depth:
            return
        self.text_parts.append(data)
        if self.open_link is not None:
            self.open_link.text += data


def parse_page(html: str) -> ParsedPage:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    page = parser.page
    page.title = " ".join("".join(parser.title_parts).split())
    page.text = " ".join("".join(parser.text_parts).split())
    page.protected_emails = [e for e in page.protected_emails if e]
    return page
