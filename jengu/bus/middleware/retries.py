"""Retries by error class and queue policy: dramatiq's `Retries`, reshaped for us."""

from __future__ import annotations

import logging
import random
import time
import traceback
from typing import Any

import dramatiq
from dramatiq.common import compute_backoff
from dramatiq.errors import Retry
from dramatiq.middleware import Middleware

from jengu.failures import TRANSIENT, TransientError, classify

logger = logging.getLogger(__name__)

DEFAULT_MAX_RETRIES = 3
DEFAULT_MIN_BACKOFF = 1000
DEFAULT_MAX_BACKOFF = 60000


class EventRetries(Middleware):
    """Replaces `dramatiq.middleware.Retries`.

    Differences: only *transient* errors are retried (`jengu.failures.classify`),
    the backoff shape is an option (`exponential` with jitter, `linear`, `none`),
    a `TransientError(retry_after=...)` or `Retry(delay=...)` sets the delay, and
    the classification and first failure time are kept in the message options
    for the dead letter. Options are read from the message first, then the actor
    (so a test or an operator can shorten one message's backoff).
    """

    @property
    def actor_options(self) -> set[str]:
        return {"max_retries", "min_backoff", "max_backoff", "backoff", "throws"}

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None:
            return
        actor = broker.get_actor(message.actor_name)
        retries = message.options.get("retries", 0)
        classification = classify(exception)
        now_ms = int(time.time() * 1000)
        message.options.update(
            retries=retries + 1,
            classification=classification,
            traceback="".join(traceback.format_exception(exception, limit=30)),
            requeue_timestamp=now_ms,
        )
        message.options.setdefault("first_failure_at", now_ms)

        throws = _option(message, actor, "throws", None)
        max_retries = _option(message, actor, "max_retries", DEFAULT_MAX_RETRIES)
        if classification != TRANSIENT or (throws and isinstance(exception, throws)):
            logger.warning("%s failure of %s: not retried", classification, message.message_id)
            message.fail()
            return
        if retries >= max_retries:
            logger.warning("retries exhausted for %s", message.message_id)
            message.fail()
            return
        delay = _delay(message, actor, retries, exception)
        logger.info("retrying %s in %s ms", message.message_id, delay)
        broker.enqueue(message, delay=delay)


def _option(message: Any, actor: dramatiq.Actor, name: str, default: Any) -> Any:
    return message.options.get(name, actor.options.get(name, default))


def _delay(message: Any, actor: dramatiq.Actor, retries: int, exc: BaseException) -> int | None:
    if isinstance(exc, Retry) and exc.delay is not None:
        return exc.delay
    if isinstance(exc, TransientError) and exc.retry_after is not None:
        return int(exc.retry_after * 1000)
    shape = _option(message, actor, "backoff", "exponential")
    min_backoff = _option(message, actor, "min_backoff", DEFAULT_MIN_BACKOFF)
    max_backoff = _option(message, actor, "max_backoff", DEFAULT_MAX_BACKOFF)
    if shape == "none":
        return None
    if shape == "linear":
        # A little jitter so a burst of failures does not come back as a burst.
        return int(min(min_backoff * (retries + 1), max_backoff) * random.uniform(1, 1.2))
    return compute_backoff(retries, factor=min_backoff, max_backoff=max_backoff)[1]
