"""Sending end to end: SendEmailBatch -> ComposeEmail (template, instant) -> SendEmail -> SMTP.

The target's configuration: 1 worker x 8 threads, in this process so that its CPU
per e-mail can be read. Then as deployed: `dramatiq` worker processes (1, then 2 as
in docker-compose.yml) of 8 threads each. The loopback aiosmtpd sink runs in a
process of its own, as a mail server is another machine.
Latency is from the emit of SendEmail to the sink accepting the message; queue
delay is from that emit to a worker starting it (the event log's timestamps).
"""

from __future__ import annotations

import os
import resource
import statistics
import time

import dramatiq
import pytest

from crm.models import Enrollment
from jengu.bus import emit
from jengu.events.models import Event
from outreach import tasks  # noqa: F401 - declares the actors before the worker starts
from outreach.models import EmailMessage
from tests.benchmarks.report import percentile, print_table
from tests.fakes.smtp_process import SmtpSinkProcess
from tests.outreach.sending_fixtures import (  # noqa: F401 - fixture
    make_campaign,
    make_enrollment,
    make_inbox,
    sending_state_clean,
)
from tests.waiting import wait_for
from tests.worker_processes import DEPLOYED_ENV, worker_booted, worker_processes

EMAILS = 400
THREADS = 8
# As deployed (docker-compose.yml, `make run`): idle queues are polled every 50 ms.
WORKER_TIMEOUT_MS = int(DEPLOYED_ENV["dramatiq_worker_timeout"])
SENDING_ENV = {
    "XAI_API_KEYS": "",
    "ANTHROPIC_API_KEY": "",
    "SEND_PACING_JITTER_SECONDS": "0",
    "SEND_MAX_PER_DOMAIN_PER_DAY": "1000",
    "LOG_LEVEL": "WARNING",
}


def _cpu_seconds() -> float:
    # This process's CPU (user + system, all threads): unlike e-mails/s, it does not
    # depend on what else the shared machine is doing.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@pytest.fixture
def sink(tmp_path):
    sink = SmtpSinkProcess(tmp_path / "accepted.log").start()
    yield sink
    sink.stop()


@pytest.fixture
def campaign(transactional_db, settings, sink, sending_state_clean):  # noqa: F811 - fixture
    # SENDING_ENV, for the worker in this process.
    settings.XAI_API_KEYS = []
    settings.ANTHROPIC_API_KEY = ""
    settings.SEND_PACING_JITTER_SECONDS = 0
    settings.SEND_MAX_PER_DOMAIN_PER_DAY = 1000
    campaign = make_campaign([make_inbox(sink) for _ in range(4)])
    for _ in range(EMAILS):
        make_enrollment(campaign)
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield campaign
    broker.flush_all()


def _send_all(sink: SmtpSinkProcess) -> float:
    """Emit one batch and wait for the sink to hold every e-mail; the seconds it took."""
    started = time.perf_counter()
    emit("SendEmailBatch", {})
    deadline = time.monotonic() + 300
    while sink.count() < EMAILS and time.monotonic() < deadline:
        time.sleep(0.02)
    return time.perf_counter() - started


def _figures(sink: SmtpSinkProcess, elapsed: float) -> list[list[str]]:
    assert sink.count() == EMAILS
    assert Enrollment.objects.filter(status=Enrollment.Status.FINISHED).count() == EMAILS
    accepted = sink.accepted()
    ids = dict(EmailMessage.objects.values_list("pk", "message_id"))
    latency, queue_delay = [], []
    for event in Event.objects.filter(type="SendEmail"):
        pk = event.payload["message_id"]
        latency.append((accepted[ids[pk]] - event.created_at.timestamp()) * 1000)
        queue_delay.append((event.started_at - event.created_at).total_seconds() * 1000)
    return [
        ["e-mails/s", f"{EMAILS / elapsed:.0f}", ">= 50"],
        ["send latency p50 (ms)", f"{statistics.median(latency):.0f}", ""],
        ["send latency p95 (ms)", f"{percentile(latency, 95):.0f}", "<= 200"],
        ["queue delay p95 (ms)", f"{percentile(queue_delay, 95):.0f}", "<= 1000"],
    ]


def _load_row() -> list[str]:
    return ["load average (1 min) at the end", f"{os.getloadavg()[0]:.1f}", ""]


def test_send_pipeline_throughput(campaign, sink):
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, worker_timeout=WORKER_TIMEOUT_MS, worker_threads=THREADS)
    worker.start()
    try:
        cpu_started = _cpu_seconds()
        elapsed = _send_all(sink)
        cpu = _cpu_seconds() - cpu_started
        for queue in ("scheduled", "compose", "send", "track"):
            broker.join(queue, timeout=60000)
        worker.join()
    finally:
        worker.stop()
    print_table(
        f"Sending: {EMAILS} e-mails, batch -> compose -> send -> SMTP sink, "
        f"1 worker x {THREADS} threads in this process",
        ["measure", "value", "target"],
        [
            *_figures(sink, elapsed),
            ["worker process CPU per e-mail (ms)", f"{cpu * 1000 / EMAILS:.1f}", ""],
            _load_row(),
        ],
    )


def _settled() -> bool:
    # Records and event-log rows land just after the sink has the last e-mail.
    logged = Event.objects.filter(type="SendEmail", status=Event.Status.SUCCEEDED).count()
    finished = Enrollment.objects.filter(status=Enrollment.Status.FINISHED).count()
    return logged == finished == EMAILS


@pytest.mark.parametrize("processes", [1, 2])
def test_send_pipeline_throughput_with_worker_processes(campaign, sink, tmp_path, processes):
    with worker_processes(
        log_dir=tmp_path,
        modules=["outreach.tasks"],
        queues=["scheduled", "compose", "send", "track"],
        threads=THREADS,
        env={**SENDING_ENV, **DEPLOYED_ENV},
    ) as start:
        workers = [start() for _ in range(processes)]
        wait_for(lambda: all(map(worker_booted, workers)), 60, "the worker processes to start")
        elapsed = _send_all(sink)
        wait_for(_settled, 60, "the sends to be recorded")
    print_table(
        f"Sending: {EMAILS} e-mails as deployed, {processes} worker process(es) "
        f"x {THREADS} threads",
        ["measure", "value", "target"],
        [*_figures(sink, elapsed), _load_row()],
    )
