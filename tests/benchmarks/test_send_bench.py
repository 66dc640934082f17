"""Sending end to end: SendEmailBatch -> ComposeEmail (template, instant) -> SendEmail -> SMTP.

1 in-process worker x 8 threads on the Redis broker; the loopback aiosmtpd sink
runs in a process of its own, as a mail server is another machine.
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

EMAILS = 400


def _cpu_seconds() -> float:
    # The worker's CPU (user + system, all threads): unlike e-mails/s, it does not
    # depend on what else the shared machine is doing.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@pytest.fixture
def sink(tmp_path):
    sink = SmtpSinkProcess(tmp_path / "accepted.log").start()
    yield sink
    sink.stop()


@pytest.mark.usefixtures("sending_state_clean")
def test_send_pipeline_throughput(transactional_db, settings, sink):
    settings.XAI_API_KEYS = []
    settings.ANTHROPIC_API_KEY = ""
    settings.SEND_PACING_JITTER_SECONDS = 0
    settings.SEND_MAX_PER_DOMAIN_PER_DAY = 1000
    settings.LOG_LEVEL = "WARNING"
    campaign = make_campaign([make_inbox(sink) for _ in range(4)])
    for _ in range(EMAILS):
        make_enrollment(campaign)
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=8)
    worker.start()
    try:
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        emit("SendEmailBatch", {})
        deadline = time.monotonic() + 300
        while sink.count() < EMAILS and time.monotonic() < deadline:
            time.sleep(0.02)
        elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
        for queue in ("scheduled", "compose", "send", "track"):
            broker.join(queue, timeout=60000)
        worker.join()
    finally:
        worker.stop()
        broker.flush_all()

    assert sink.count() == EMAILS
    assert Enrollment.objects.filter(status=Enrollment.Status.FINISHED).count() == EMAILS
    accepted = sink.accepted()
    ids = dict(EmailMessage.objects.values_list("pk", "message_id"))
    latency, queue_delay = [], []
    for event in Event.objects.filter(type="SendEmail"):
        pk = event.payload["message_id"]
        latency.append((accepted[ids[pk]] - event.created_at.timestamp()) * 1000)
        queue_delay.append((event.started_at - event.created_at).total_seconds() * 1000)
    print_table(
        f"Sending: {EMAILS} e-mails, batch -> compose -> send -> SMTP sink, 1 worker x 8 threads",
        ["measure", "value", "target"],
        [
            ["e-mails/s", f"{EMAILS / elapsed:.0f}", ">= 50"],
            ["send latency p50 (ms)", f"{statistics.median(latency):.0f}", ""],
            ["send latency p95 (ms)", f"{percentile(latency, 95):.0f}", "<= 200"],
            ["queue delay p95 (ms)", f"{percentile(queue_delay, 95):.0f}", "<= 1000"],
            ["worker process CPU per e-mail (ms)", f"{cpu * 1000 / EMAILS:.1f}", ""],
            ["load average (1 min) at the end", f"{os.getloadavg()[0]:.1f}", ""],
        ],
    )
