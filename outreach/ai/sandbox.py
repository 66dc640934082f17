"""Render user-written step templates safely, with spintax.

Campaign steps are written by users, so they get a template engine that sees only
the context dict (strings and small dicts of strings, never model instances), has
no loaders (no `{% include %}`/`{% extends %}`), cannot `{% load %}` libraries, and
lacks `{% debug %}` (which would print the context and loaded modules) and
`{% url %}`/`{% csrf_token %}`. Spintax such as `{Hi|Hello}` is resolved before
rendering, deterministically per seed, so a prospect always gets the same words.
"""

from __future__ import annotations

import hashlib
import random
import re

from django.template import Context, Library, defaultfilters, defaulttags
from django.template.engine import Engine

_BLOCKED_TAGS = frozenset({"debug", "load", "url", "csrf_token"})

register = Library()
register.tags.update(
    {name: tag for name, tag in defaulttags.register.tags.items() if name not in _BLOCKED_TAGS}
)
register.filters.update(defaultfilters.register.filters)


class SandboxEngine(Engine):
    default_builtins = ["outreach.ai.sandbox"]


# Plain-text e-mail: escaping "&" to "&amp;" would be a bug, not a defence.
_engine = SandboxEngine(loaders=[], autoescape=False)

_DJANGO_TOKEN = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.DOTALL)
_INNERMOST_SPIN = re.compile(r"\{([^{}]*)\}")


def spintax_resolve(text: str, *, seed: str) -> str:
    """Replace every `{a|b|c}` with one option chosen deterministically from `seed`.

    Django tags are masked first so `{{ name|lower }}` is never mistaken for
    spintax; nested spintax resolves from the inside out.
    """
    tokens: list[str] = []

    def mask(match: re.Match) -> str:
        tokens.append(match.group(0))
        return f"\x00{len(tokens) - 1}\x00"

    masked = _DJANGO_TOKEN.sub(mask, text)
    rng = random.Random(hashlib.sha256(seed.encode()).digest())  # noqa: S311 - not crypto
    while True:
        resolved = _INNERMOST_SPIN.sub(lambda m: rng.choice(m.group(1).split("|")), masked)
        if resolved == masked:
            break
        masked = resolved
    return re.sub(r"\x00(\d+)\x00", lambda m: tokens[int(m.group(1))], masked)


def sandbox_render(template_text: str, *, context: dict, seed: str) -> str:
    """Spintax, then the Django template language over `context` only."""
    template = _engine.from_string(spintax_resolve(template_text, seed=seed))
    return template.render(Context(context, autoescape=False))
