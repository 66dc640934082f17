"""Strings that a page's JavaScript builds, for addresses hidden from plain-text scrapers.

Sites hide addresses as `'info' + '@' + 'krone.ch'`, as variables joined later
(`var u = 'info'; ... u + '@' + d`), with escapes (`'info\\x40krone.ch'`) or with
`String.fromCharCode(105, 110, ...)`. This is not a JavaScript interpreter: one
regular-expression pass reads string literals, simple assignments of strings to
names, and `+` between them, which is how those snippets are written. Only the
strings that contain an `@` are returned. Linear in the script's length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

TOKEN_RE = re.compile(
    r"""String\.fromCharCode\(\s*(?P<codes>[0-9\s,]{1,2000})\)
      | '(?P<single>(?:[^'\\\r\n]|\\.){0,300})'
      | "(?P<double>(?:[^"\\\r\n]|\\.){0,300})"
      | (?P<name>[A-Za-z_$][\w$]{0,60})
      | (?P<plus>\+)(?!\+)
      | (?P<assign>=)(?![=>])
      | (?P<other>==?=?|[^\s])""",
    re.VERBOSE,
)
ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]{1,6}\}|.)")
SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}
MAX_RESULTS = 200


def unescape(literal: str) -> str:
    def replace(match: re.Match) -> str:
        escape = match.group(1)
        if escape[0] in "xu" and len(escape) > 1:
            code = int(escape[1:].strip("{}"), 16)
            return chr(code) if code <= 0x10FFFF else ""
        return SIMPLE_ESCAPES.get(escape, escape)

    return ESCAPE_RE.sub(replace, literal)


def from_char_codes(codes: str) -> str:
    numbers = [int(n) for n in re.findall(r"\d{1,7}", codes)]
    return "".join(chr(n) for n in numbers if n <= 0x10FFFF)


class _Evaluator:
    """Folds `operand (+ operand)*` runs; remembers `name = <run>` assignments."""

    def __init__(self) -> None:
        self.variables: dict[str, str] = {}
        self.parts: list[str] = []
        self.want_operand = True
        self.last_name = ""
        self.target = ""
        self.found: list[str] = []

    def operand(self, value: str | None) -> None:
        if not self.want_operand:
            self.end()
        if value is None:  # a name we know nothing about: the run cannot be folded
            self.end()
            return
        self.parts.append(value)
        self.want_operand = False

    def end(self) -> None:
        if self.parts:
            value = "".join(self.parts)
            if self.target:
                self.variables[self.target] = value
            if "@" in value and len(self.found) < MAX_RESULTS:
                self.found.append(value)
        self.parts, self.want_operand, self.target = [], True, ""

    def feed(self, match: re.Match) -> None:
        kind = match.lastgroup
        if kind == "plus" and self.parts:
            self.want_operand = True
        elif kind == "assign" and self.last_name:
            self.end()
            self.target = self.last_name
        elif kind == "name":
            name = match.group("name")
            self.operand(self.variables.get(name))
            self.last_name = name
            return
        elif kind in ("single", "double"):
            self.operand(unescape(match.group(kind)))
        elif kind == "codes":
            self.operand(from_char_codes(match.group("codes")))
        else:
            self.end()
        self.last_name = ""


def built_strings(source: str) -> Iterator[str]:
    """Strings containing `@` that the script writes, literally or by concatenation."""
    evaluator = _Evaluator()
    for match in TOKEN_RE.finditer(source):
        evaluator.feed(match)
    evaluator.end()
    yield from evaluator.found
