"""A few seconds of the regions' load simulation (the five-minute run is in `make bench`):
three regions' worker process groups, one SIGKILLed mid-load and started again; every
e-mail goes once, the dead region's through another."""

from __future__ import annotations

import pytest

from jengu.region_config import parse_regions
from tests.outreach.fault_scenarios import SENDING_ENV
from tests.region_simulation import JENGU_REGIONS, VICTIM, Plan, simulate
from tests.worker_processes import DEPLOYED_ENV

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sending_state_clean", "alerts_clean")]

SHORT_ENV = {
    **DEPLOYED_ENV,
    "JENGU_REGIONS": JENGU_REGIONS,
    "WORKER_HEARTBEAT_SECONDS": "0.2",
    "JENGU_REGION_DOWN_SECONDS": "1",
    "JENGU_REGION_CHECK_SECONDS": "1",
    **SENDING_ENV,
}
THREADS = 4


def test_a_region_killed_mid_load_loses_and_duplicates_nothing(
    transactional_db, broker, settings, tmp_path
):
    settings.JENGU_REGIONS = parse_regions(JENGU_REGIONS)
    plan = Plan(
        rate=12, seconds=6, kill_at=2, restart_at=5, env=SHORT_ENV, threads=THREADS,
        settle_seconds=90,
    )  # fmt: skip

    outcome = simulate(plan, log_dir=tmp_path)

    assert outcome.duplicated() == []
    # Only a send killed mid-way may be missing: never resent by itself (a person decides).
    assert set(outcome.missing()) <= set(outcome.in_doubt())
    assert len(outcome.in_doubt()) <= THREADS
    assert sum(outcome.received().values()) >= len(outcome.due) - THREADS
    # The dead region's e-mails went on: through another region, soon after the check.
    assert outcome.down_seen_at is not None
    assert outcome.failover_seconds() is not None and outcome.failover_seconds() < 30
    assert outcome.handed_over > 0
    assert set(outcome.latencies()) == {"us-east", VICTIM, "asia-pacific"}
