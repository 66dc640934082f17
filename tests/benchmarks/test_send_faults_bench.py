"""Recovery from faults injected mid-batch, with the documented defaults.

A batch of 100 e-mails on 4 inboxes (a loopback SMTP server taking 0.2 s per
message), 1 worker process x 8 threads with the deployed broker settings. Redis
is killed and started empty 5 s later, under a running scheduler (lock refresh
5 s, sweeps every 5 min); the SMTP server is stopped for 60 s and for 90 s, with
no scheduler at all (breakers: 3 failures, 60 s rest). Each e-mail must arrive
exactly once; the table says how long after the service came back the last one
did. The breaker opens as the outage starts, so after 60 s its probe meets the
server just back; after 90 s the probe comes at its next rest's end, ~30 s later.
"""

from __future__ import annotations

from collections import Counter

import dramatiq
import pytest

from crm.models import Enrollment
from jengu.bus import emit
from outreach import tasks  # noqa: F401 - declares the actors
from tests.benchmarks.report import print_table
from tests.outreach.fault_scenarios import (
    SENDING_ENV,
    Outcome,
    batch_campaign,
    redis_restarted_empty,
    smtp_server_down,
)
from tests.outreach.sending_fixtures import (  # noqa: F401 - fixtures
    sending_state_clean,
    smtp_sink,
)
from tests.own_redis import own_redis  # noqa: F401 - fixture
from tests.worker_processes import DEPLOYED_ENV, manage, scheduler_processes, worker_processes

EMAILS = 100
THREADS = 8
QUEUES = ["scheduled", "compose", "send", "track"]
ENV = {**SENDING_ENV, **DEPLOYED_ENV, "LOG_LEVEL": "WARNING"}
HEADER = ["measure", "value"]


@pytest.fixture
def broker(transactional_db, sending_state_clean):  # noqa: F811 - fixture
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


def _rows(outcome: Outcome) -> list[list[str]]:
    once = set(outcome.copies.values()) == {1} and len(outcome.copies) == outcome.emails
    return [
        ["e-mails out before the fault", f"{outcome.before_fault}/{outcome.emails}"],
        ["down for (s)", f"{outcome.down_seconds:g}"],
        ["each e-mail delivered exactly once", "yes" if once else f"NO: {outcome.copies}"],
        ["DATA cut by the fault (uncertain, settled by an operator)", str(outcome.uncertain)],
        ["back -> last e-mail accepted (s)", f"{outcome.back_to_done:.1f}"],
    ]


def _check(outcome: Outcome) -> None:
    expected = {email: 1 for email in Enrollment.objects.values_list("prospect__email", flat=True)}
    assert outcome.copies == expected
    assert outcome.statuses == Counter({"sent": EMAILS})


def test_redis_restarted_empty_mid_batch(transactional_db, own_redis, smtp_sink, tmp_path):  # noqa: F811
    batch_campaign(smtp_sink, emails=EMAILS)
    env = {**ENV, "REDIS_URL": own_redis.url}
    with (
        worker_processes(log_dir=tmp_path, modules=["outreach.tasks"], queues=QUEUES,
                         threads=THREADS, env=env) as start_worker,
        scheduler_processes(log_dir=tmp_path, env=env) as start_scheduler,
    ):  # fmt: skip
        start_worker()
        start_scheduler()
        manage("send_batch", env=env)
        outcome = redis_restarted_empty(
            redis=own_redis, sink=smtp_sink, emails=EMAILS, down_seconds=5, timeout=900
        )
    _check(outcome)
    title = "Fault: Redis restarted empty mid-batch (scheduler running)"
    print_table(title, HEADER, _rows(outcome))


@pytest.mark.parametrize("down_seconds", [60, 90])
def test_smtp_server_down_mid_batch(broker, smtp_sink, tmp_path, down_seconds):  # noqa: F811
    batch_campaign(smtp_sink, emails=EMAILS)
    with worker_processes(
        log_dir=tmp_path, modules=["outreach.tasks"], queues=QUEUES, threads=THREADS, env=ENV
    ) as start_worker:
        start_worker()
        emit("SendEmailBatch", {})
        outcome = smtp_server_down(
            sink=smtp_sink, emails=EMAILS, down_seconds=down_seconds, timeout=900
        )
    _check(outcome)
    closed = outcome.back_to_breaker_closed
    print_table(
        f"Fault: SMTP server down {down_seconds} s mid-batch (no scheduler, no sweep)",
        HEADER,
        [
            *_rows(outcome),
            ["back -> breaker closed by a probe (s)", f"{closed:.1f}" if closed else "never"],
            ["breaker closed -> last e-mail accepted (s)", f"{outcome.breaker_closed_to_done:.1f}"],
        ],
    )
