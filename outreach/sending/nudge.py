"""Delayed `SendEmail` nudges for held messages, at most one pending per message.

A message's marker holds the token of its pending nudge, and the nudge carries
that token in its payload. When the nudged send is held again, it replaces its
own marker with the next nudge's: a held message always has a next attempt,
and two attempts held at once still leave only one nudge behind.

An e-mail held while its inbox's breaker has a probe out is also listed for
that inbox: when the probe closes the breaker, every one listed is nudged at
once instead of at its own next attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from jengu.bus import emit, emit_many
from jengu.redis_helpers import get_redis
from jengu.redis_helpers.client import key

# Longer waits (a window that opens tomorrow) are nudged again when this one comes.
MAX_DELAY_SECONDS = 6 * 3600
# A list of e-mails waiting for a probe outlives any probe; each also has its own nudge.
PROBE_WAITERS_TTL_SECONDS = 3600

# KEYS: the marker. ARGV: the token of the nudge now running ('' if none), the new
# token, its lifetime in ms. A pending nudge other than the running one wins.
_RESCHEDULE = """
local pending = redis.call('GET', KEYS[1])
if pending and pending ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


def _key(message_id: int) -> str:
    return key("nudge", "send", message_id)


def send_nudge(*, message_id: int, delay_seconds: float, replacing: str = "") -> bool:
    """Emit `SendEmail` after `delay_seconds` unless another nudge is on its way.

    `replacing` is the token of the nudge being handled (the `nudge` of its
    payload): its own marker does not count as "on its way". The marker lives
    just past the delay, so after a Redis flush (marker and delayed message gone
    together) the sweeper's re-emit is what remains.
    """
    delay_ms = int(min(max(delay_seconds, 0.0), MAX_DELAY_SECONDS) * 1000)
    token = uuid.uuid4().hex
    script = get_redis().register_script(_RESCHEDULE)
    if not script(keys=[_key(message_id)], args=[replacing, token, max(delay_ms, 1) + 1000]):
        return False
    emit("SendEmail", {"message_id": message_id, "nudge": token}, delay_ms=delay_ms or None)
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


def _waiters_key(inbox_id: int) -> str:
    return key("nudge", "probe", inbox_id)


def nudge_after_probe(*, message_id: int, inbox_ids: Iterable[int]) -> None:
    """List `message_id` to be nudged when one of `inbox_ids` has its breaker closed."""
    pipe = get_redis().pipeline(transaction=False)
    for inbox_id in inbox_ids:
        pipe.sadd(_waiters_key(inbox_id), message_id)
        pipe.expire(_waiters_key(inbox_id), PROBE_WAITERS_TTL_SECONDS)
    pipe.execute()


def nudge_probe_waiters(*, inbox_id: int) -> int:
    """The inbox's breaker just closed: nudge every e-mail listed for it, now; how many."""
    pipe = get_redis().pipeline(transaction=True)
    pipe.smembers(_waiters_key(inbox_id))
    pipe.delete(_waiters_key(inbox_id))
    waiting, _ = pipe.execute()
    emit_many("SendEmail", [{"message_id": int(message_id)} for message_id in sorted(waiting)])
    return len(waiting)
