"""Operator alerts: one message per incident to a Slack/Discord-compatible webhook.

`alert(kind, message, **context)` is safe to call from anywhere (actors, views,
services): it never raises and never blocks longer than the webhook timeout.
The same kind + context is sent once per `ALERT_COOLDOWN_SECONDS` (a Redis
`SET NX EX`, so one incident seen by ten workers is still one message); pass
`dedup_key=` when the context holds changing details such as error text.
Every alert is also an ERROR log line and is kept in a short Redis list that the
dashboard shows under "recent alerts".

Alert text often carries words a stranger wrote (the subject of an inbound e-mail),
so what is posted to the chat webhook is neutralised first: no mention can ping a
channel (`<!channel>`, `<@U123>`, `@everyone`, `@here`…) and no link is clickable
or disguised (Slack's `<url|text>`, Markdown's `[text](url)`, bare URLs and domains
are defanged: `hxxps[:]//evil[.]example`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import redis
from django.conf import settings
from django.utils import timezone

from jengu.metrics import count, redis_client

logger = logging.getLogger("jengu.alerts")

RECENT_KEY = "jengu:alerts:recent"
COOLDOWN_PREFIX = "jengu:alerts:cooldown:"
RECENT_KEEP = 100
WEBHOOK_TIMEOUT_SECONDS = 3.0
# Chat control sequences: Slack's <!channel>, <@U1>, <url|text>; Discord's <@1>, <#1>.
_ANGLE = str.maketrans({"<": "‹", ">": "›"})
_BROADCAST = re.compile(r"@(?=(everyone|here|channel|all|room|group)\b)", re.IGNORECASE)
_SCHEME = re.compile(r"\b(h)tt(ps?)://|\b(ftp|file|javascript|data):", re.IGNORECASE)
_MASKED_LINK = re.compile(r"\]\s*\(")
# A dot between two host labels ("evil.example", "a.b.c/x"): what makes a domain a link.
_HOST_DOT = re.compile(r"(?<=[A-Za-z0-9-])\.(?=[A-Za-z][A-Za-z0-9-]*\b)")
# Used only while Redis is unreachable (then dedup is per process, better than none).
_local_cooldowns: dict[str, float] = {}


@dataclass
class RecentAlert:
    kind: str
    message: str
    context: dict
    at: str
    delivered: bool


def alert(kind: str, message: str, dedup_key: str | None = None, **context: Any) -> bool:
    """Tell an operator that `kind` happened (e.g. "dead_letter", "breaker_opened").

    Returns True when this call raised the alert, False when it was a duplicate
    of one raised within the cooldown.
    """
    identity = dedup_key or json.dumps([kind, context], sort_keys=True, default=str)
    if not _first_in_cooldown(f"{kind}:{identity}"):
        return False
    details = " ".join(f"{name}={value}" for name, value in sorted(context.items()))
    logger.error("ALERT %s: %s %s", kind, message, details, extra={"alert_kind": kind})
    delivered = _post_webhook(kind, message, context)
    _remember(kind, message, context, delivered)
    count("alerts", kind=kind)
    return True


def _first_in_cooldown(identity: str) -> bool:
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    cooldown = settings.ALERT_COOLDOWN_SECONDS
    try:
        return bool(redis_client().set(COOLDOWN_PREFIX + digest, 1, nx=True, ex=cooldown))
    except redis.RedisError:
        now = time.monotonic()
        if _local_cooldowns.get(digest, 0) > now:
            return False
        _local_cooldowns[digest] = now + cooldown
        return True


def _defanged_scheme(match: re.Match[str]) -> str:
    if match.group(1):
        return f"{match.group(1)}xx{match.group(2)}[:]//"
    return f"{match.group(3)}[:]"


def neutralised(text: str) -> str:
    """`text` that pings nobody and links nowhere in Slack, Discord or Mattermost."""
    text = text.translate(_ANGLE)
    text = _BROADCAST.sub("@\u200b", text)
    text = _SCHEME.sub(_defanged_scheme, text)
    text = _MASKED_LINK.sub("] (", text)
    return _HOST_DOT.sub("[.]", text)


def webhook_payload(kind: str, message: str, context: dict) -> dict:
    """Slack reads `text`, Discord reads `content`; each ignores the other.

    Discord is also told to parse no mention at all (`allowed_mentions`).
    """
    details = "\n".join(f"• {key}: {value}" for key, value in sorted(context.items()))
    body = neutralised(message + (f"\n{details}" if details else ""))
    text = f":rotating_light: *Jengu · {kind}*\n{body}"
    return {
        "text": text,
        "content": text[:2000],
        "username": "Jengu",
        "allowed_mentions": {"parse": []},
    }


def _post_webhook(kind: str, message: str, context: dict) -> bool:
    url = settings.ALERT_WEBHOOK_URL
    if not url:
        return False
    try:
        response = httpx.post(
            url, json=webhook_payload(kind, message, context), timeout=WEBHOOK_TIMEOUT_SECONDS
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        # The URL carries the webhook's secret token: log the error type, never the URL.
        logger.warning("alert webhook failed for %s: %s", kind, type(exc).__name__)
        return False
    return True


def _remember(kind: str, message: str, context: dict, delivered: bool) -> None:
    entry = {
        "kind": kind,
        "message": message,
        "context": context,
        "at": timezone.now().isoformat(),
        "delivered": delivered,
    }
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.lpush(RECENT_KEY, json.dumps(entry, default=str))
        pipe.ltrim(RECENT_KEY, 0, RECENT_KEEP - 1)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("alert %s not kept for the dashboard: %s", kind, exc)


def recent_alerts(*, limit: int = 20) -> list[RecentAlert]:
    """Newest first; empty when Redis is unreachable."""
    try:
        raw = redis_client().lrange(RECENT_KEY, 0, limit - 1)
    except redis.RedisError:
        return []
    return [RecentAlert(**json.loads(item)) for item in raw]
