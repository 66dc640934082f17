"""Send-time optimisation: which two-hour slot of the prospect's week gets human replies.

An arm is (prospect's timezone, industry or "", slot), a slot being a weekday class
and a two-hour block of local time, e.g. "midweek:10" = Tuesday–Thursday 10:00–11:59
where the prospect is (zoneinfo, so DST moves with the prospect). Each arm's reply
probability has a Beta posterior whose prior is pooled: the slot's rate across all
zones and industries (itself shrunk towards the overall rate), worth
SEND_TIME_PRIOR_STRENGTH observations. A new zone therefore starts from what every
other zone taught, and its own replies take over as they come.

Thompson sampling draws one probability per candidate slot and sends in the slot
with the highest draw: slots that look good get most sends, uncertain ones keep
getting a few, so a wrong early belief corrects itself.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAY_CLASS = ("mon", "midweek", "midweek", "midweek", "fri", "weekend", "weekend")
SLOT_HOURS = 2


def slot_of(local: datetime) -> str:
    """The slot of a local time: "<weekday class>:<first hour of its two-hour block>"."""
    return f"{WEEKDAY_CLASS[local.weekday()]}:{local.hour // SLOT_HOURS * SLOT_HOURS:02d}"


@dataclass
class Counts:
    replies: int = 0
    sends: int = 0

    def add(self, replies: int, sends: int) -> None:
        self.replies += replies
        self.sends += sends


ArmKey = tuple[str, str, str]  # (zone, industry, slot)


@dataclass
class SlotModel:
    """Reply counts per arm, pooled per slot and overall; posteriors and draws."""

    arms: dict[ArmKey, Counts] = field(default_factory=lambda: defaultdict(Counts))
    prior_strength: float = 20.0

    def __post_init__(self) -> None:
        self.arms = defaultdict(Counts, self.arms)
        self._pooled: dict[str, Counts] = defaultdict(Counts)
        self._overall = Counts()
        for (_, _, slot), counts in self.arms.items():
            self._pooled[slot].add(counts.replies, counts.sends)
            self._overall.add(counts.replies, counts.sends)

    def observe(self, arm: ArmKey, replied: bool) -> None:
        for counts in (self.arms[arm], self._pooled[arm[2]], self._overall):
            counts.add(int(replied), 1)

    def _slot_mean(self, slot: str) -> float:
        overall = (self._overall.replies + 1) / (self._overall.sends + 2)
        pooled = self._pooled[slot]
        strength = self.prior_strength
        return (pooled.replies + strength * overall) / (pooled.sends + strength)

    def posterior(self, arm: ArmKey) -> tuple[float, float]:
        """Beta(alpha, beta) of the arm's reply probability."""
        mean = self._slot_mean(arm[2])
        own = self.arms.get(arm, Counts())
        alpha = self.prior_strength * mean + own.replies
        beta = self.prior_strength * (1 - mean) + own.sends - own.replies
        return alpha, beta

    def choose(self, arms: Iterable[ArmKey], rng: random.Random) -> ArmKey:
        """Thompson sampling: the arm whose posterior draw is highest."""
        return max(arms, key=lambda arm: rng.betavariate(*self.posterior(arm)))


def candidate_slots(
    *, now: datetime, zone: ZoneInfo, is_open, days: int = 7
) -> dict[str, datetime]:
    """Each slot of the coming `days` whose window is open at some hour, with the first
    such instant (aware, UTC). `is_open(instant)` is the campaign window's check."""
    found: dict[str, datetime] = {}
    start = now.replace(minute=0, second=0, microsecond=0)
    for hours in range(days * 24):
        instant = max(start + timedelta(hours=hours), now)
        slot = slot_of(instant.astimezone(zone))
        if slot not in found and is_open(instant):
            found[slot] = instant
    return found
