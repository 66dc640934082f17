"""Take secrets out of what leaves the process for Sentry.

A 500 carries the request (form fields, JSON body) and every frame's local variables,
and an inbox form or API payload holds `smtp_password`, `imap_password` and
`resend_api_key` in clear. Sentry's own denylist matches exact names only, so this
scrubs by pattern, on the event as it will be sent (after Sentry turned objects into
text): values under a secret-looking key, `name=value` / `'name': value` pairs inside
any text (a pydantic schema's or a QueryDict's repr), and our API keys and Fernet
tokens wherever they appear.
"""

from __future__ import annotations

import re
from typing import Any

FILTERED = "[Filtered]"

_SECRET_WORD = re.compile(
    r"pass(?:word|wd|phrase)?|secret|token|api[_-]?key|apikey|credential|private[_-]?key"
    r"|signature|authorization|cookie|session|dsn|encryption[_-]?key",
    re.IGNORECASE,
)
# A name (never starting inside a longer word), = or : (maybe after its closing quote),
# then a quoted value, a [list] or a bare word. Every repeat is bounded, so a long or
# hostile text costs linear time.
_PAIR = re.compile(
    r"""(?<![\w-])(?P<name>[\w-]{1,100})(?P<sep>['"]?\s{0,10}[:=]\s{0,10})"""
    r"""(?P<value>'[^']{0,2000}'|"[^"]{0,2000}"|\[[^\]]{0,2000}\]|[^\s,&;)}>'"]{1,2000})"""
)
# Our API keys (jengu/apikeys/keys.py) and Fernet tokens (jengu/fields.py).
_TOKENS = re.compile(r"\bjk_[A-Za-z0-9_-]{16,}|\bgAAAAA[A-Za-z0-9_=-]{20,}")


def _pair(match: re.Match) -> str:
    if not _SECRET_WORD.search(match["name"]):
        return match[0]
    return f"{match['name']}{match['sep']}{FILTERED}"


def scrub_text(text: str) -> str:
    return _TOKENS.sub(FILTERED, _PAIR.sub(_pair, text))


def scrub(value: Any) -> Any:
    """`value` with secrets replaced, recursively through dicts and lists."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: FILTERED
            if isinstance(key, str) and _SECRET_WORD.search(key) and item not in (None, "")
            else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


def scrub_event(event: dict, hint: dict) -> dict:
    """Sentry `before_send`: the whole event, scrubbed."""
    return scrub(event)
