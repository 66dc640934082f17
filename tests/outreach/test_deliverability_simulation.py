"""Send-time optimisation in a synthetic world whose best slot and true lift are known.

Prospects in Paris (DST included: the eight simulated weeks cross the March change)
arrive at random times; the campaign's window is 08–18 on working days. Each slot
has a true probability of a human reply; the answer is revealed to the learner
only 72 hours after the e-mail went, as in production. 10 % of prospects are the
holdout and go on the window's plain schedule (at once, or at the next opening).
Seeded generators make every figure the same on every run.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm.models import Campaign, Prospect
from outreach.bayes import Counts, lift_estimate
from outreach.sending.send_time import SlotModel, candidate_slots, slot_of
from outreach.sending.windows import window_check, window_next_opening

PARIS = ZoneInfo("Europe/Paris")
BEST = "midweek:14"
TRUE_RATE = {
    BEST: 0.09,
    "midweek:10": 0.05,
    "mon:10": 0.045,
    "fri:10": 0.035,
    "midweek:08": 0.03,
}
BASE_RATE = 0.025
PROSPECTS = 6000
REVEAL_AFTER = timedelta(hours=72)


def true_rate(slot: str) -> float:
    return TRUE_RATE.get(slot, BASE_RATE)


@dataclass
class World:
    model: SlotModel
    chosen: list[str]  # the slot of each optimised send, in order
    optimised: Counts
    holdout: Counts
    expected_optimised: float  # sum of true rates of the optimised sends
    expected_holdout: float


def simulate(seed: int = 7) -> World:
    rng, outcomes = random.Random(seed), random.Random(seed + 1)
    campaign = Campaign(window_start_hour=8, window_end_hour=18, window_days=[0, 1, 2, 3, 4])
    campaign.skip_holidays = False
    prospect = Prospect(timezone="Europe/Paris", country="FR")
    start = datetime(2027, 3, 1, tzinfo=UTC)
    arrivals = sorted(
        start + timedelta(seconds=rng.uniform(0, 56 * 86400)) for _ in range(PROSPECTS)
    )
    world = World(SlotModel(prior_strength=20.0), [], Counts(), Counts(), 0.0, 0.0)
    pending: list[tuple[datetime, tuple, bool]] = []

    def is_open(at: datetime) -> bool:
        return window_check(campaign=campaign, prospect=prospect, at=at).open

    for now in arrivals:
        while pending and pending[0][0] <= now:
            _, arm, replied = pending.pop(0)
            world.model.observe(arm, replied)
        if rng.random() < 0.10:
            sent = window_next_opening(campaign=campaign, prospect=prospect, after=now)
            group, holdout = world.holdout, True
        else:
            slots = candidate_slots(now=now, zone=PARIS, is_open=is_open)
            arms = [("Europe/Paris", "", slot) for slot in slots]
            chosen = world.model.choose(arms, rng)[2]
            sent, group, holdout = slots[chosen], world.optimised, False
            world.chosen.append(chosen)
        slot = slot_of(sent.astimezone(PARIS))
        replied = outcomes.random() < true_rate(slot)
        group.add(int(replied), 1)
        if holdout:
            world.expected_holdout += true_rate(slot)
        else:
            world.expected_optimised += true_rate(slot)
        pending.append((sent + REVEAL_AFTER, ("Europe/Paris", "", slot), replied))
        pending.sort(key=lambda item: item[0])
    return world


def test_the_sampler_converges_to_the_best_slot_and_the_holdout_recovers_the_true_lift():
    world = simulate()

    last = Counter(world.chosen[-1000:])
    share_best = last[BEST] / 1000
    alpha, beta = world.model.posterior(("Europe/Paris", "", BEST))
    true_lift = (
        world.expected_optimised / world.optimised.sends
        - world.expected_holdout / world.holdout.sends
    )
    lift = lift_estimate(
        optimised=world.optimised, holdout=world.holdout, min_sample=100, draws=20000
    )
    print(
        f"\nbest-slot share of the last 1000 optimised sends: {share_best:.1%}; "
        f"posterior mean of {BEST}: {alpha / (alpha + beta):.4f} (true {TRUE_RATE[BEST]}); "
        f"optimised {world.optimised.replies}/{world.optimised.sends}, "
        f"holdout {world.holdout.replies}/{world.holdout.sends}; "
        f"true lift {true_lift:+.4f}, estimated {lift.mean:+.4f} "
        f"[{lift.low:+.4f}, {lift.high:+.4f}]"
    )

    assert last.most_common(1)[0][0] == BEST
    assert share_best >= 0.8
    assert abs(alpha / (alpha + beta) - TRUE_RATE[BEST]) < 0.015
    assert lift.enough
    assert lift.low <= true_lift <= lift.high
    assert abs(lift.mean - true_lift) < 0.02
    assert lift.low > 0  # the world has a real lift, and the holdout shows it


def test_the_simulation_is_deterministic():
    first, second = simulate(seed=11), simulate(seed=11)

    assert first.chosen == second.chosen
    assert first.optimised == second.optimised


def test_early_on_the_lift_is_reported_as_too_small():
    lift = lift_estimate(
        optimised=Counts(replies=3, sends=40),
        holdout=Counts(replies=0, sends=5),
        min_sample=100,
        draws=5000,
    )

    assert not lift.enough
    assert lift.verdict.startswith("Too few settled first touches")
    assert lift.low < 0 < lift.high
