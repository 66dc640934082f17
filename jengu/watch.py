"""The system watcher: turns what `/health` sees into alerts (run every minute)."""

from __future__ import annotations

import redis

from jengu.alerts import alert
from jengu.health import UNHEALTHY, dead_letters_pending, health_report
from jengu.metrics import redis_client

DEAD_LETTERS_SEEN_KEY = "jengu:alerts:dead-letters-seen"


def system_watch() -> list[str]:
    """Alert on an unhealthy system, open breakers and a growing dead-letter pile.

    Returns the kinds alerted in this run (deduplicated ones excluded).
    """
    report = health_report()
    components = report["components"]
    sent = []
    if report["status"] == UNHEALTHY:
        failing = {
            n: c.get("error", c["status"])
            for n, c in components.items()
            if c["status"] == UNHEALTHY
        }
        if alert("health_unhealthy", "Jengu is unhealthy", dedup_key="health", **failing):
            sent.append("health_unhealthy")
    for name in components.get("breakers", {}).get("open", []):
        message = f"Circuit breaker {name} opened: calls to it are paused"
        if alert("breaker_opened", message, dedup_key=f"breaker:{name}", breaker=name):
            sent.append("breaker_opened")
    pending = dead_letters_pending() if "dead_letters" in components else None
    if pending is not None and _dead_letters_grew(pending):
        message = f"{pending} dead letters waiting for review"
        if alert("dead_letters_growing", message, dedup_key="dead_letters", pending=pending):
            sent.append("dead_letters_growing")
    return sent


def _dead_letters_grew(pending: int) -> bool:
    try:
        previous = redis_client().getset(DEAD_LETTERS_SEEN_KEY, pending)
    except redis.RedisError:
        return False
    return previous is not None and pending > int(previous)
