"""Render user-written step templates safely, with spintax, within fixed limits.

Campaign steps are written by users, so they get a template engine that sees only
the context dict (strings and small dicts of strings, never model instances), has
no loaders (no `{% include %}`/`{% extends %}`), cannot `{% load %}` libraries, and
lacks `{% debug %}` (which would print the context and loaded modules),
`{% url %}`/`{% csrf_token %}` and `{% lorem %}` (text by the megabyte on request).
Spintax such as `{Hi|Hello}` is resolved before rendering, deterministically per
seed, so a prospect always gets the same words.

A template can still ask for a lot of work: nested loops over long strings, a
filter such as `ljust:"100000000"`, `{% with %}` chains that double a value, a
deep spintax nest. Every render therefore has a budget (`TemplateLimitError` when
it is exceeded, naming the limit): source size, rendered characters, nodes
rendered, filter widths and filter results. Spintax and tag scanning are linear in
the template's length.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.template import Context, Library, defaultfilters, defaulttags
from django.template.base import Lexer, Node, NodeList, Parser, Template
from django.template.defaulttags import (
    AutoEscapeControlNode,
    CommentNode,
    ForNode,
    IfChangedNode,
    IfNode,
    SpacelessNode,
    WithNode,
)
from django.template.engine import Engine

TEMPLATE_MAX_CHARS = 50_000  # the API's own limit for a step body
OUTPUT_MAX_CHARS = 50_000  # what one template may render, and any one filter result
RENDER_MAX_STEPS = 100_000  # nodes and node lists rendered (loops multiply them)
FILTER_MAX_WIDTH = 1_000  # widths and precisions in ljust, center, stringformat…

_BLOCKED_TAGS = frozenset({"debug", "load", "url", "csrf_token", "lorem", "verbatim"})
_WIDTH_FILTERS = frozenset({"ljust", "rjust", "center", "stringformat", "floatformat"})


class TemplateLimitError(ValueError):
    """A step template asked for more work or output than a sandbox render allows."""


def _check_width(name: str, args: tuple) -> None:
    for arg in args:
        for digits in re.findall(r"\d+", str(arg)):
            if int(digits) > FILTER_MAX_WIDTH:
                raise TemplateLimitError(
                    f"filter {name}:{arg!r} asks for more than {FILTER_MAX_WIDTH} characters"
                )


def _check_join(value: Any, args: tuple) -> None:
    if not args or not hasattr(value, "__len__"):
        return
    estimate = len(value) * len(str(args[0]))
    if isinstance(value, list | tuple):
        estimate += sum(len(str(item)) for item in value)
    if estimate > OUTPUT_MAX_CHARS:
        raise TemplateLimitError(f"filter join would build more than {OUTPUT_MAX_CHARS} characters")


def _guarded(name: str, func: Callable) -> Callable:
    """`func` with its arguments checked before and its result's size after."""

    @functools.wraps(func)  # keeps is_safe/needs_autoescape and the signature Django checks
    def guarded(value: Any, *args: Any, **kwargs: Any) -> Any:
        if name in _WIDTH_FILTERS:
            _check_width(name, args)
        elif name == "join":
            _check_join(value, args)
        result = func(value, *args, **kwargs)
        if isinstance(result, str | list) and len(result) > OUTPUT_MAX_CHARS:
            raise TemplateLimitError(
                f"filter {name} produced more than {OUTPUT_MAX_CHARS} characters"
            )
        return result

    return guarded


register = Library()
register.tags.update(
    {name: tag for name, tag in defaulttags.register.tags.items() if name not in _BLOCKED_TAGS}
)
register.filters.update(
    {name: _guarded(name, func) for name, func in defaultfilters.register.filters.items()}
)


class SandboxEngine(Engine):
    default_builtins = ["outreach.ai.sandbox"]


# Plain-text e-mail: escaping "&" to "&amp;" would be a bug, not a defence.
_engine = SandboxEngine(loaders=[], autoescape=False)


# --- the render budget --------------------------------------------------------------

# Containers whose output is only their children's output (the children are counted).
_TRANSPARENT = (
    ForNode,
    IfNode,
    WithNode,
    IfChangedNode,
    SpacelessNode,
    AutoEscapeControlNode,
    CommentNode,
)
_BUDGET_KEY = object()  # in the render context, which templates cannot reach


class _Budget:
    def __init__(self) -> None:
        self.steps = 0
        self.chars = 0

    def spend(self, *, steps: int = 0, chars: int = 0) -> None:
        self.steps += steps
        self.chars += chars
        if self.steps > RENDER_MAX_STEPS:
            raise TemplateLimitError(f"loops render more than {RENDER_MAX_STEPS} pieces")
        if self.chars > OUTPUT_MAX_CHARS:
            raise TemplateLimitError(f"it renders more than {OUTPUT_MAX_CHARS} characters")


def _budget(context: Context) -> _Budget:
    budget = context.render_context.get(_BUDGET_KEY)
    if budget is None:
        budget = context.render_context[_BUDGET_KEY] = _Budget()
    return budget


class _Charged(Node):
    """Renders `node` and charges the render (and its output, unless a container's)."""

    child_nodelists = ()

    def __init__(self, node: Node) -> None:
        self.node = node
        self.counted = not isinstance(node, _TRANSPARENT)

    def render_annotated(self, context: Context) -> str:
        bit = self.node.render_annotated(context)
        _budget(context).spend(steps=1, chars=len(bit) if self.counted else 0)
        return bit

    render = render_annotated


class _ChargedSequence:
    """A `{% for %}` sequence that charges one step per item before the loop starts,
    so an empty loop body cannot hide a million iterations."""

    def __init__(self, expression: Any) -> None:
        self.expression = expression

    def resolve(self, context: Context, ignore_failures: bool = False) -> Any:
        values = self.expression.resolve(context, ignore_failures=ignore_failures)
        _budget(context).spend(steps=len(values) if hasattr(values, "__len__") else 0)
        return values


def _child_nodelists(node: Node) -> list[NodeList]:
    if isinstance(node, IfNode):  # its `nodelist` attribute is a fresh copy
        return [nodelist for _, nodelist in node.conditions_nodelists]
    children = (getattr(node, attr, None) for attr in node.child_nodelists)
    return [child for child in children if isinstance(child, NodeList)]


def _budgeted(nodelist: NodeList) -> None:
    """Charge every node of a compiled template to the render's budget (no recursion)."""
    pending = [nodelist]
    while pending:
        current = pending.pop()
        for node in current:
            pending.extend(_child_nodelists(node))
            if isinstance(node, ForNode):
                node.sequence = _ChargedSequence(node.sequence)
        current[:] = [_Charged(node) for node in current]


# --- tags and spintax, both in one linear pass ----------------------------------------

# Django's lexer takes `{%…%}`, `{{…}}` and `{#…#}` within one line, the leftmost first.
_CLOSERS = {"%": "%}", "{": "}}", "#": "#}"}
_SPIN_SYNTAX = re.compile(r"([{}|])")
# A piece of template: (True, a Django tag/variable/comment) or (False, plain text).
Piece = tuple[bool, str]


class _NextFinder:
    """`text.find(needle, start)` for ascending starts, linear in total."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: dict[str, int] = {}

    def __call__(self, needle: str, start: int) -> int:
        cached = self.found.get(needle, -2)
        if cached == -1 or cached >= start:
            return cached
        self.found[needle] = self.text.find(needle, start)
        return self.found[needle]


def django_pieces(text: str) -> list[Piece]:
    """Split `text` into Django tokens and plain text exactly as Django's lexer would,
    in linear time (its regular expression rescans the line for every unclosed `{{`)."""
    find = _NextFinder(text)
    pieces: list[Piece] = []
    plain_from = position = 0
    while (position := text.find("{", position)) >= 0:
        closer = _CLOSERS.get(text[position + 1 : position + 2])
        end = find(closer, position + 2) if closer else -1
        line_end = find("\n", position)
        if end < 0 or 0 <= line_end < end:
            position += 1
            continue
        pieces.append((False, text[plain_from:position]))
        pieces.append((True, text[position : end + 2]))
        plain_from = position = end + 2
    pieces.append((False, text[plain_from:]))
    return [piece for piece in pieces if piece[1]]


# A spintax group is a list of options; an option is a list of pieces and groups.
Option = list  # of Piece | Group
Group = list  # of Option


def _spin_tree(pieces: list[Piece]) -> Option:
    """Parse `{a|b}` groups (nested) over the plain text; tokens stay whole."""
    root: Option = []
    groups: list[Group] = []
    for is_token, text in pieces:
        parts = [text] if is_token else [p for p in _SPIN_SYNTAX.split(text) if p]
        for part in parts:
            current = groups[-1][-1] if groups else root
            if is_token or part not in "{}|":
                current.append((is_token, part))
            elif part == "{":
                group: Group = [[]]
                current.append(group)
                groups.append(group)
            elif groups and part == "|":
                groups[-1].append([])
            elif groups:  # "}"
                groups.pop()
            else:  # a "|" or "}" outside any group is text
                current.append((False, part))
    for unclosed in groups:  # never closed: their braces and bars were text
        _as_text(unclosed)
    return root


def _as_text(group: Group) -> None:
    """Make an unclosed group one option that reads as its source: `{a|b`."""
    text: Option = [(False, "{")]
    for index, option in enumerate(group):
        if index:
            text.append((False, "|"))
        text.extend(option)
    group[:] = [text]


def _spin_walk(root: Option, rng: random.Random) -> Iterator[Piece]:
    """The pieces of one choice per group, depth first without recursion."""
    pending = [iter(root)]
    while pending:
        item = next(pending[-1], None)
        if item is None:
            pending.pop()
        elif isinstance(item, list):  # a group: one of its options
            pending.append(iter(item[0] if len(item) == 1 else rng.choice(item)))
        else:
            yield item


def _spin(text: str, seed: str) -> list[Piece]:
    """The pieces after spintax, adjacent plain text joined into one piece."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())  # noqa: S311 - not crypto
    pieces: list[Piece] = []
    for is_token, part in _spin_walk(_spin_tree(django_pieces(text)), rng):
        if pieces and not is_token and not pieces[-1][0]:
            pieces[-1] = (False, pieces[-1][1] + part)
        else:
            pieces.append((is_token, part))
    return pieces


def spintax_resolve(text: str, *, seed: str) -> str:
    """Replace every `{a|b|c}` with one option chosen deterministically from `seed`.

    Django tags are kept whole, so `{{ name|lower }}` is never mistaken for
    spintax; nested spintax resolves to one leaf.
    """
    return "".join(text for _, text in _spin(text, seed))


class _PieceLexer(Lexer):
    """Django's lexer fed with the pieces we already split (in linear time), so
    text stays text: a brace left over from spintax never starts a tag."""

    def __init__(self, pieces: list[Piece]) -> None:
        super().__init__("".join(text for _, text in pieces))
        self.pieces = pieces

    def tokenize(self) -> list:
        tokens, lineno = [], 1
        for is_token, text in self.pieces:
            tokens.append(self.create_token(text, None, lineno, is_token))
            lineno += text.count("\n")
        return tokens


class _SandboxTemplate(Template):
    def __init__(self, pieces: list[Piece]) -> None:
        self.pieces = pieces
        super().__init__("".join(text for _, text in pieces), engine=_engine)

    def compile_nodelist(self) -> NodeList:
        tokens = _PieceLexer(self.pieces).tokenize()
        engine = self.engine
        parser = Parser(tokens, engine.template_libraries, engine.template_builtins, self.origin)
        nodelist = parser.parse()
        self.extra_data = parser.extra_data
        return nodelist


def sandbox_render(template_text: str, *, context: dict, seed: str) -> str:
    """Spintax, then the Django template language over `context` only, within limits."""
    if len(template_text) > TEMPLATE_MAX_CHARS:
        raise TemplateLimitError(f"it is longer than {TEMPLATE_MAX_CHARS} characters")
    template = _SandboxTemplate(_spin(template_text, seed))
    _budgeted(template.nodelist)
    return template.render(Context(context, autoescape=False))
