"""Regions under the 1M-a-day rate: three regions' workers, one killed midway.

12 e-mails/s (1M a day) come due for five minutes, spread over us-east, eu-west and
asia-pacific (tests/region_simulation.py): per region one `rundramatiq --regions R`
process group of 8 threads, the `crontab` scheduler, an SMTP sink process,
PostgreSQL with a streaming replica serving a dashboard read every second, the
Redis broker. eu-west's process group is SIGKILLed at 120 s and started again at
210 s. The deployed defaults decide the failover: heartbeats every 5 s, a region
down after 30 s without one, the check every 10 s. Prints latency percentiles per
region (due -> accepted by the SMTP sink), what was lost, duplicated or left in
doubt, the failover time, the replica's lag and the machine's load average.
"""

from __future__ import annotations

import os
import statistics

import pytest
from django.db import connections

from jengu.region_config import parse_regions
from tests.benchmarks.report import percentile, print_table
from tests.outreach.fault_scenarios import SENDING_ENV
from tests.outreach.replies_fixtures import alerts_clean  # noqa: F401 - fixture
from tests.outreach.sending_fixtures import sending_state_clean  # noqa: F401 - fixture
from tests.region_simulation import JENGU_REGIONS, VICTIM, Outcome, Plan, simulate
from tests.replica_pair import ReplicaUnavailable, StreamingReplica
from tests.worker_processes import DEPLOYED_ENV

RATE, SECONDS, KILL_AT, RESTART_AT, THREADS = 12, 300, 120, 210, 8
ENV = {
    **DEPLOYED_ENV,
    **SENDING_ENV,
    "JENGU_REGIONS": JENGU_REGIONS,
}


@pytest.fixture
def replica(transactional_db):
    try:
        pair = StreamingReplica(dict(connections["default"].settings_dict))
        pair.create()
    except ReplicaUnavailable as exc:
        print(f"\n(no streaming replica: {exc})")
        yield None
        return
    yield pair
    pair.destroy()


@pytest.mark.usefixtures("sending_state_clean", "alerts_clean")
def test_three_regions_at_a_million_a_day_with_one_killed_midway(
    transactional_db, broker, settings, replica, tmp_path
):
    settings.JENGU_REGIONS = parse_regions(JENGU_REGIONS)
    plan = Plan(RATE, SECONDS, KILL_AT, RESTART_AT, ENV, threads=THREADS)

    outcome = simulate(plan, log_dir=tmp_path, replica=replica)

    title = (
        f"Regions: {RATE} e-mails/s for {SECONDS} s over us-east, eu-west, asia-pacific "
        f"(1 worker process x {THREADS} threads each), {VICTIM} SIGKILLed at {KILL_AT} s "
        f"and back at {RESTART_AT} s; Redis broker; "
        f"{'primary + streaming replica' if replica else 'primary only'}"
    )
    print_table(
        title, ["e-mails", "count", "p50 s", "p95 s", "p99 s", "max s"], latency_rows(outcome)
    )
    print_table("Failover and delivery", ["measure", "value"], outcome_rows(outcome))
    assert outcome.duplicated() == []
    assert set(outcome.missing()) <= set(outcome.in_doubt())


def latency_rows(outcome: Outcome) -> list[list[str]]:
    def row(name: str, samples: list[float]) -> list[str]:
        if not samples:
            return [name, "0", "-", "-", "-", "-"]
        cells = [percentile(samples, p) for p in (50, 95, 99)] + [max(samples)]
        return [name, str(len(samples)), *(f"{value:.2f}" for value in cells)]

    latencies = outcome.latencies()
    rows = [row(region, samples) for region, samples in sorted(latencies.items())]
    outage = [
        latency
        for enrollment, latency in outcome.latency_by_enrollment().items()
        if outcome.region[enrollment] == VICTIM
        and outcome.killed_at <= outcome.due[enrollment] <= (outcome.restarted_at or 1e18)
    ]
    rows.append(row(f"{VICTIM}, due while its workers were dead", outage))
    return rows


def outcome_rows(outcome: Outcome) -> list[list[str]]:
    received = outcome.received()
    doubt, missing = set(outcome.in_doubt()), set(outcome.missing())
    load = outcome.load
    lag = outcome.replica_lag
    down = outcome.down_seen_at - outcome.killed_at if outcome.down_seen_at else None
    failover = outcome.failover_seconds()
    rows = [
        ["e-mails due", str(len(outcome.due))],
        ["received exactly once", str(sum(1 for n in received.values() if n == 1))],
        ["received twice or more", str(len(outcome.duplicated()))],
        ["missing, not in doubt (lost)", str(len(missing - doubt))],
        [
            "in doubt (killed mid-send, never resent by itself)",
            f"{len(doubt)}, of which arrived: {len(doubt - missing)}",
        ],
        ["message statuses", ", ".join(f"{k} {v}" for k, v in sorted(outcome.statuses.items()))],
        ["kill -> region seen down by the check", f"{down:.1f} s" if down is not None else "never"],
        [
            f"kill -> first {VICTIM} e-mail sent by another region",
            f"{failover:.1f} s" if failover is not None else "never",
        ],
        [f"{VICTIM} sends run by another region", str(outcome.handed_over)],
        ["load average (1 min): min / mean / max", _spread([sample[0] for sample in load])],
    ]
    if lag:
        rows.append(["replica lag (s): min / mean / max", _spread(lag)])
    rows.append(["cores", str(os.cpu_count())])
    return rows


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.fmean(values):.2f} / {max(values):.2f}"
