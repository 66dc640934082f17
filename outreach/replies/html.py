"""HTML mail bodies to plain text, with quoted blocks marked the way text mail marks them.

Linear in the input: a line is built from a list of fragments (joined once), and
whether we are inside a quote is a counter, not a scan of the open elements.
"""

from __future__ import annotations

from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "head", "title"})
_BLOCK = frozenset(
    {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "pre"}
    | {"blockquote"}
)
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})
# Containers mail clients put a quoted earlier message in; their text is quoted text.
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote")
_QUOTE_IDS = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        # Each line is a list of words, joined once at the end (appending to one ever
        # longer string would copy it on every piece of text).
        self.lines: list[list[str]] = [[]]
        self.skip_depth = 0
        # One entry per open non-void element: does it start a quoted region? The count
        # of True entries is kept beside it, so "are we quoting" costs O(1), not O(depth).
        self.quote_stack: list[bool] = []
        self.quotes_open = 0

    @property
    def quoting(self) -> bool:
        return self.quotes_open > 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        if tag in _BLOCK:
            self._newline()
        if tag not in _VOID:
            quote = tag == "blockquote" or _is_quote_container(attrs)
            self.quote_stack.append(quote)
            self.quotes_open += quote

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skip_depth:
            self.skip_depth -= 1
        if tag not in _VOID and self.quote_stack:
            self.quotes_open -= self.quote_stack.pop()
        if tag in _BLOCK:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        text = " ".join(data.split())
        if not text:
            return
        line = self.lines[-1]
        if not line and self.quoting:
            line.append(">")
        line.append(text)

    def _newline(self) -> None:
        if self.lines[-1]:
            self.lines.append([])


def _is_quote_container(attrs: list[tuple[str, str | None]]) -> bool:
    values = {name: (value or "").lower() for name, value in attrs}
    classes = values.get("class", "")
    return any(name in classes for name in _QUOTE_CLASSES) or values.get("id", "") in _QUOTE_IDS


def html_to_text(html: str) -> str:
    """Readable text of an HTML body; text inside quote containers is prefixed with '> '."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return "\n".join(" ".join(line) for line in extractor.lines).strip()
