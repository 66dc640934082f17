"""Knowing whether a dead worker had begun handing a message to the server.

A marker is set before the row is fenced `sending`. Right before SMTP DATA (or
the API request) the sender deletes it, and the sweeper deletes it before it
queues a stuck row again: Redis `DEL` answers 1 to only one of them, so either
the sender goes on to DATA or the sweeper requeues, never both. A sender that
loses (or finds the marker gone after a Redis flush) stops before DATA. A stuck
row whose marker the sweeper cannot take may have been sent: it becomes
`uncertain`. A lost marker only ever errs towards asking a person.
"""

from __future__ import annotations

from jengu.redis_helpers import get_redis
from jengu.redis_helpers.client import key

TTL_SECONDS = 2 * 86400


def _key(message_pk: int) -> str:
    return key("send", "pre-data", message_pk)


def handover_pending(*, message_pk: int) -> None:
    get_redis().set(_key(message_pk), "1", ex=TTL_SECONDS)


class HandoverRevoked(RuntimeError):
    """The sweeper took this send back (or Redis lost its marker): do not start DATA."""


def handover_started(*, message_pk: int) -> None:
    """Take the marker right before DATA; raises HandoverRevoked if it is gone."""
    if not get_redis().delete(_key(message_pk)):
        raise HandoverRevoked(f"message {message_pk}: hand-over revoked before DATA")


def handover_take_back(message_pks: list[int]) -> set[int]:
    """Take the markers of stuck sends; those taken provably never reached DATA."""
    if not message_pks:
        return set()
    pipe = get_redis().pipeline(transaction=False)
    for pk in message_pks:
        pipe.delete(_key(pk))
    return {pk for pk, taken in zip(message_pks, pipe.execute(), strict=True) if taken}
