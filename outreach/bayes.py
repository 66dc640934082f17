"""Beta-Binomial comparisons by Monte Carlo with a seeded generator (same data, same answer).

Each group's reply probability has a Beta(1 + replies, 1 + non-replies) posterior
(a flat prior: these figures are shown to people, and should be the data's). Plain
arithmetic on counts, importing nothing of ours: the sender's send-time learner and
deliverability's reports both count with it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SEED = 20261205


@dataclass
class Counts:
    replies: int = 0
    sends: int = 0

    def add(self, replies: int, sends: int) -> None:
        self.replies += replies
        self.sends += sends


def _draw(counts: Counts, rng: random.Random) -> float:
    return rng.betavariate(1 + counts.replies, 1 + counts.sends - counts.replies)


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class Lift:
    """Reply rate of the optimised group minus the holdout's, in percentage points."""

    optimised: Counts
    holdout: Counts
    mean: float
    low: float  # 95 % credible interval
    high: float
    probability_better: float
    enough: bool
    verdict: str


def rate(counts: Counts) -> float | None:
    return counts.replies / counts.sends if counts.sends else None


def lift_estimate(
    *, optimised: Counts, holdout: Counts, min_sample: int, draws: int, seed: int = SEED
) -> Lift:
    rng = random.Random(seed)
    differences = sorted(_draw(optimised, rng) - _draw(holdout, rng) for _ in range(draws))
    mean = sum(differences) / draws
    low, high = _quantile(differences, 0.025), _quantile(differences, 0.975)
    better = sum(1 for d in differences if d > 0) / draws
    enough = min(optimised.sends, holdout.sends) >= min_sample
    interval = f"{mean:+.1%} (95 % CI {low:+.1%} to {high:+.1%})"
    if not enough:
        verdict = (
            f"Too few settled first touches to tell yet: {optimised.sends} scheduled by slot, "
            f"{holdout.sends} in the holdout; each group needs {min_sample}."
        )
    elif low > 0:
        verdict = f"Slot scheduling gets more replies: {interval}."
    elif high < 0:
        verdict = f"Slot scheduling gets fewer replies: {interval}."
    else:
        verdict = f"No clear difference yet: {interval}."
    return Lift(optimised, holdout, mean, low, high, better, enough, verdict)


def probability_best(
    groups: dict[str, Counts], *, draws: int, seed: int = SEED
) -> dict[str, float]:
    """For each group, the probability that its reply rate is the highest."""
    rng = random.Random(seed)
    names = sorted(groups)
    wins = dict.fromkeys(names, 0)
    for _ in range(draws):
        best = max(names, key=lambda name: _draw(groups[name], rng))
        wins[best] += 1
    return {name: wins[name] / draws for name in names}
