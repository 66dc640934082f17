"""Delayed `SendEmail` nudges for held messages, at most one pending per message."""

from __future__ import annotations

from collections.abc import Iterable

from jengu.bus import emit
from jengu.redis_helpers import get_redis
from jengu.redis_helpers.client import key

# Longer waits (a window that opens tomorrow) are left to the sweeper's next rounds.
MAX_DELAY_SECONDS = 6 * 3600


def _key(message_id: int) -> str:
    return key("nudge", "send", message_id)


def send_nudge(*, message_id: int, delay_seconds: float) -> bool:
    """Emit `SendEmail` after `delay_seconds` unless a nudge is already on its way.

    The marker lives exactly as long as the delay, so after a Redis flush (marker
    and delayed message gone together) the sweeper's re-emit is what remains.
    """
    delay_ms = int(min(max(delay_seconds, 0.0), MAX_DELAY_SECONDS) * 1000)
    if not get_redis().set(_key(message_id), "1", nx=True, px=max(delay_ms, 1) + 1000):
        return False
    emit("SendEmail", {"message_id": message_id}, delay_ms=delay_ms or None)
    return True


def nudges_pending(message_ids: Iterable[int]) -> set[int]:
    """Which of `message_ids` already have a nudge on its way."""
    ids = list(message_ids)
    if not ids:
        return set()
    pipe = get_redis().pipeline(transaction=False)
    for message_id in ids:
        pipe.exists(_key(message_id))
    return {message_id for message_id, found in zip(ids, pipe.execute(), strict=True) if found}
