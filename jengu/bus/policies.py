"""Retry policy per queue (docs/pipeline.md, "Retries")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Backoff = Literal["exponential", "linear", "none"]


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int
    backoff: Backoff
    min_backoff: int = 1000  # ms: the first delay (exponential) or the step (linear)
    max_backoff: int = 60000  # ms
    # Order in a worker's local work queue (lower runs first). Later stages of the
    # pipeline go first: a composed e-mail is sent, and a reply stops its sequence,
    # before the worker starts composing the next batch (earlier stages wait while
    # later ones have work: that is the point).
    priority: int = 50

    def actor_options(self) -> dict[str, int | str]:
        return {
            "max_retries": self.max_retries,
            "backoff": self.backoff,
            "min_backoff": self.min_backoff,
            "max_backoff": self.max_backoff,
            "priority": self.priority,
        }


POLICIES: dict[str, RetryPolicy] = {
    "enrich": RetryPolicy(5, "exponential", priority=60),
    "validate": RetryPolicy(3, "exponential", priority=50),
    "compose": RetryPolicy(3, "exponential", priority=40),
    # A send that failed twice needs a human look more than a third SMTP attempt.
    "send": RetryPolicy(2, "linear", min_backoff=10000, priority=20),
    "reply": RetryPolicy(1, "none", priority=10),
    "track": RetryPolicy(3, "exponential", priority=30),
    # Cron fires again soon anyway; one quick retry covers a blip. Its ticks go first:
    # they are cheap and few, and some must not wait behind a backlog (reply polling
    # stops sequences, the sweeper, the system watch that raises alerts).
    "scheduled": RetryPolicy(1, "exponential", min_backoff=5000, priority=0),
}

QUEUES: tuple[str, ...] = tuple(POLICIES)


def policy_for(queue: str) -> RetryPolicy:
    """The policy of `queue`; regional variants (`enrich-eu-west`) share their stage's."""
    stage = queue.split("-", 1)[0]
    try:
        return POLICIES[stage]
    except KeyError:
        raise ValueError(f"unknown queue {queue!r}; stages are {', '.join(QUEUES)}") from None
