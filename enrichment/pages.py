"""Reading an HTML page: title, visible text, links, scripts and structured data.

The markup is parsed by selectolax's lexbor engine, an implementation of the HTML
standard's parser in C: it reads conditional comments, unclosed CDATA, stray `<!`
and binary bytes the way browsers do, in linear time, where the standard library's
`HTMLParser` raises. Should any parser still fail, `parse_page` raises
`PageUnreadable` and the caller records the page as unreadable.

Text is joined the way a browser lays it out: words inside inline elements
(`<b>`, `<span>` ...) run together, while every other element and the end of a text
node inside it start a new word, so minified markup such as
`<a>info@krone.ch</a><div>Landgasthof</div>` never glues two words into one address.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from enrichment.names import word_set

# Phrasing elements that do not break a word when they open or close.
INLINE_TAGS = word_set(
    """b i em strong span small u font sup sub wbr abbr code mark s strike tt big bdi bdo
    cite q time data var kbd samp ins del"""
)
SKIPPED_TAGS = frozenset({"style", "noscript", "template", "svg", "iframe", "object", "head"})
JSON_LD = "application/ld+json"
META_TEXT = frozenset({"description", "og:site_name", "og:title", "og:description"})
SCRIPT_BUDGET = 512 * 1024  # characters of inline script kept per page
JSON_LD_BUDGET = 256 * 1024
CONTEXT_CHARS = 120  # text kept before each link, to see who an address belongs to


class PageUnreadable(Exception):
    """The page's markup could not be read; the reason says why."""


@dataclass
class Link:
    href: str
    text: str = ""
    before: str = ""  # the text just before the link ("Website by ...")


@dataclass
class ParsedPage:
    title: str = ""
    text: str = ""
    links: list[Link] = field(default_factory=list)
    protected_emails: list[str] = field(default_factory=list)
    structured_emails: list[str] = field(default_factory=list)  # schema.org "email"
    scripts: list[str] = field(default_factory=list)
    extra_text: str = ""  # meta descriptions and JSON-LD values: words the page says of itself
    base_href: str = ""


def decode_cfemail(encoded: str) -> str:
    """Cloudflare's e-mail obfuscation: a hex key byte XORed over the address."""
    try:
        data = bytes.fromhex(encoded)
    except ValueError:
        return ""
    if not data:
        return ""
    return bytes(b ^ data[0] for b in data[1:]).decode("utf-8", errors="ignore")


def parse_page(html: str) -> ParsedPage:
    """Read a page; raises PageUnreadable, and nothing else, on markup it cannot read."""
    try:
        return _Reader().read(LexborHTMLParser(html))
    except Exception as exc:  # markup is hostile input: a parser bug must cost one page only
        raise PageUnreadable(f"{type(exc).__name__}: {exc}"[:300]) from exc


class _Reader:
    def __init__(self) -> None:
        self.page = ParsedPage()
        self.parts: list[str] = []
        self.extra: list[str] = []
        self.tail = ""
        self.open_links: list[Link] = []
        self.script_chars = 0

    def read(self, tree: LexborHTMLParser) -> ParsedPage:
        title = tree.css_first("title")
        self.page.title = " ".join((title.text() if title else "").split())
        if tree.head is not None:
            self._read_head(tree.head)
        if tree.root is not None:
            for node, entering in _walk(tree.root):
                self._visit(node, entering)
        self.page.text = " ".join("".join(self.parts).split())
        self.page.extra_text = " ".join(" ".join(self.extra).split())
        self.page.protected_emails = [e for e in self.page.protected_emails if e]
        return self.page

    def _read_head(self, head: LexborNode) -> None:
        for meta in head.css("meta"):
            key = (meta.attributes.get("name") or meta.attributes.get("property") or "").lower()
            if key in META_TEXT:
                self.extra.append(meta.attributes.get("content") or "")
        base = head.css_first("base[href]")
        if base is not None:
            self.page.base_href = (base.attributes.get("href") or "").strip()
        for script in head.css("script"):
            self._script(script)

    def _visit(self, node: LexborNode, entering: bool) -> None:
        if node.is_text_node:
            self._text(node.text_content or "")
            return
        tag = node.tag or ""
        if tag not in INLINE_TAGS:
            self.parts.append("\n")
        if not entering:
            if tag == "a" and self.open_links:
                self.open_links.pop()
            return
        if tag == "script":
            self._script(node)
        elif tag == "a":
            self._link(node)
        self._protected(node.attributes)

    def _text(self, data: str) -> None:
        self.parts.append(data)
        self.tail = (self.tail + data)[-CONTEXT_CHARS:]
        for link in self.open_links:
            link.text += data

    def _link(self, node: LexborNode) -> None:
        href = (node.attributes.get("href") or "").strip()
        link = Link(href=href, before=" ".join(self.tail.split()))
        self.page.links.append(link)
        self.open_links.append(link)

    def _protected(self, attributes: dict[str, str | None]) -> None:
        if attributes.get("data-cfemail"):
            self.page.protected_emails.append(decode_cfemail(attributes["data-cfemail"] or ""))
        href = attributes.get("href") or ""
        if "/cdn-cgi/l/email-protection#" in href:
            self.page.protected_emails.append(decode_cfemail(href.rsplit("#", 1)[1]))

    def _script(self, node: LexborNode) -> None:
        kind = (node.attributes.get("type") or "").strip().lower()
        source = node.text(deep=True) or ""
        if kind == JSON_LD:
            self._json_ld(source[:JSON_LD_BUDGET])
        elif kind in ("", "module") or "javascript" in kind:
            kept = source[: max(0, SCRIPT_BUDGET - self.script_chars)]
            self.script_chars += len(kept)
            if kept:
                self.page.scripts.append(kept)

    def _json_ld(self, source: str) -> None:
        try:
            data = json.loads(source)
        except ValueError:
            return  # broken JSON-LD is common; the page's text is still read
        for key, value in _json_strings(data):
            if key == "email":
                self.page.structured_emails.append(value.removeprefix("mailto:").strip())
            else:
                self.extra.append(value)


def _walk(root: LexborNode) -> Iterator[tuple[LexborNode, bool]]:
    """Every element (entering, then leaving) and text node, in document order.

    An explicit stack instead of recursion: a page nested ten thousand levels deep
    is as cheap to read as a flat one.
    """
    stack = [(root, root.iter(include_text=True))]
    while stack:
        parent, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            yield parent, False
        elif child.is_text_node:
            yield child, True
        elif child.is_element_node:
            yield child, True
            if (child.tag or "") in SKIPPED_TAGS or child.tag == "script":
                yield child, False
            else:
                stack.append((child, child.iter(include_text=True)))


def _json_strings(data: object) -> Iterator[tuple[str, str]]:
    """(key, string value) pairs anywhere in a JSON document, without recursion."""
    pending: list[tuple[str, object]] = [("", data)]
    while pending:
        key, value = pending.pop()
        if isinstance(value, str):
            yield key.lower(), value
        elif isinstance(value, dict):
            pending.extend(reversed([(str(k), v) for k, v in value.items()]))
        elif isinstance(value, list):
            pending.extend(reversed([(key, v) for v in value]))
