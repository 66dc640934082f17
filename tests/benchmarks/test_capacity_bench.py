"""What one e-mail costs each engine: the capacity model's inputs (docs/scaling.md).

Sends a campaign's first step to a loopback SMTP sink (its own process) through the
real pipeline — SendEmailBatch -> ComposeEmail (template) -> SendEmail -> EmailSent —
with a worker of 8 threads in this process, once on each broker, and counts per
e-mail: SQL statements (every connection's cursor, by kind), PostgreSQL commits,
Redis commands (the server's own command statistics), broker messages (publishes
and acks) and the CPU time of the worker, PostgreSQL and Redis processes.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dramatiq
import psutil
import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.backends.signals import connection_created
from dramatiq.middleware import Middleware

from jengu.bus import emit
from jengu.redis_helpers import get_redis
from outreach import tasks  # noqa: F401 - declares the actors before the worker starts
from tests.benchmarks.report import print_table, server_cpu_seconds
from tests.benchmarks.test_send_bench import _cpu_seconds, sink  # noqa: F401 - fixture
from tests.brokers import both_brokers, drain
from tests.outreach.sending_fixtures import (  # noqa: F401 - fixtures
    make_campaign,
    make_enrollment,
    make_inbox,
    sending_settings,
    sending_state_clean,
)
from tests.waiting import wait_for

EMAILS = 300
THREADS = 8
IDLE_SECONDS = 3


class StatementCounter:
    """Counts the SQL statements of every Django connection (any thread) by kind."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        kind = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        with self._lock:
            self.kinds[kind] += 1
        return execute(sql, params, many, context)

    def attach(self, sender=None, connection=None, **kwargs) -> None:
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)

    @contextmanager
    def counting(self) -> Iterator[StatementCounter]:
        connection_created.connect(self.attach)
        for existing in connections.all():
            self.attach(connection=existing)
        try:
            yield self
        finally:
            connection_created.disconnect(self.attach)
            for existing in connections.all():
                if self in existing.execute_wrappers:
                    existing.execute_wrappers.remove(self)


class MessageCounter(Middleware):
    """Broker messages: every publish (incl. retries and delayed hops) and every ack."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def after_enqueue(self, broker, message, delay) -> None:
        with self._lock:
            self.counts["published"] += 1

    def after_ack(self, broker, message) -> None:
        with self._lock:
            self.counts["acked"] += 1


def redis_commands() -> Counter[str]:
    stats = get_redis().info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()})


def postgres_counters() -> tuple[int, int, int]:
    """Commits so far, WAL position (bytes) and the size of every table with its indexes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT (SELECT xact_commit FROM pg_stat_database"
            "        WHERE datname = current_database()),"
            " pg_current_wal_lsn() - '0/0'::pg_lsn,"
            " (SELECT sum(pg_total_relation_size(oid)) FROM pg_class"
            "  WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace)"
        )
        commits, wal, size = cursor.fetchone()
        return commits, int(wal), int(size)


def server_processes(broker_url: str) -> dict[str, psutil.Process]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cursor.fetchone()[0])
    servers = {
        "PostgreSQL": backend.parent(),
        "Redis": psutil.Process(get_redis().info("server")["process_id"]),
    }
    if broker_url.startswith("amqp"):
        # The machine's RabbitMQ: its CPU also counts whatever else it served meanwhile.
        beam = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "beam.smp"]
        servers.update({"RabbitMQ (shared server)": beam[0]} if beam else {})
    return servers


@dataclass
class Run:
    """What the engines did while the e-mails went out (totals, not per e-mail)."""

    seconds: float = 0.0
    worker_cpu: float = 0.0
    server_cpu: dict[str, float] = field(default_factory=dict)
    redis: Counter[str] = field(default_factory=Counter)
    commits: int = 0
    wal_bytes: int = 0
    table_bytes: int = 0


@contextmanager
def measuring(servers: dict[str, psutil.Process]) -> Iterator[Run]:
    run = Run()
    redis_before, postgres_before = redis_commands(), postgres_counters()
    cpu_before = {name: server_cpu_seconds(p) for name, p in servers.items()}
    own_before, started = _cpu_seconds(), time.perf_counter()
    yield run
    run.seconds = time.perf_counter() - started
    run.worker_cpu = _cpu_seconds() - own_before
    run.server_cpu = {n: server_cpu_seconds(p) - cpu_before[n] for n, p in servers.items()}
    run.redis = redis_commands() - redis_before
    after = postgres_counters()
    run.commits, run.wal_bytes, run.table_bytes = (
        a - b for a, b in zip(after, postgres_before, strict=True)
    )


@pytest.fixture
def campaign(transactional_db, settings, sending_settings, sink):  # noqa: F811 - fixtures
    settings.XAI_API_KEYS = []  # compose with the template: nothing off the machine
    settings.ANTHROPIC_API_KEY = ""
    campaign = make_campaign([make_inbox(sink) for _ in range(4)])
    for _ in range(EMAILS):
        make_enrollment(campaign)
    return campaign


@both_brokers
def test_what_one_email_costs_each_engine(broker, campaign, sink):  # noqa: F811 - fixture
    messages, statements = MessageCounter(), StatementCounter()
    broker.add_middleware(messages)
    servers = server_processes(settings.BROKER_URL)
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=THREADS)
    worker.start()
    try:
        # An idle worker polls its queues and beats: that costs per second, not per e-mail.
        with measuring(servers) as idle:
            time.sleep(IDLE_SECONDS)
        with statements.counting(), measuring(servers) as busy:
            emit("SendEmailBatch", {})
            wait_for(lambda: sink.count() >= EMAILS, 300, "every e-mail at the sink", 0.02)
            drain(broker, worker, timeout_ms=120_000)
    finally:
        worker.stop()
        broker.middleware.remove(messages)
    assert sink.count() == EMAILS
    print_table(
        f"Per e-mail, {EMAILS} first-step e-mails, batch -> compose -> send -> SMTP sink, "
        f"1 worker x {THREADS} threads in this process, "
        f"{'RabbitMQ' if settings.BROKER_URL.startswith('amqp') else 'Redis'} broker",
        ["measure (per e-mail)", "value", "detail"],
        cost_rows(busy, idle, statements.kinds, messages.counts),
    )


def cost_rows(busy: Run, idle: Run, statements: Counter, messages: Counter) -> list[list[str]]:
    def each(value: float, digits: int = 1) -> str:
        return f"{value / EMAILS:.{digits}f}"

    def mix(counts: Counter) -> str:
        return ", ".join(f"{name} {each(n)}" for name, n in counts.most_common(6))

    idle_share = busy.seconds / idle.seconds
    redis_idle = sum(idle.redis.values()) * idle_share
    rows = [
        ["SQL statements", each(sum(statements.values())), mix(statements)],
        ["PostgreSQL commits", each(busy.commits), ""],
        ["PostgreSQL WAL bytes", each(busy.wal_bytes, 0), "what every replica receives"],
        ["PostgreSQL table + index bytes", each(busy.table_bytes, 0), "8 kB pages, so rough"],
        ["Redis commands", each(sum(busy.redis.values())), mix(busy.redis)],
        ["  of which idle polling and beats", each(redis_idle), f"{busy.seconds:.1f} s run"],
        ["broker messages published / acked", f"{each(messages['published'])} / "
         f"{each(messages['acked'])}", ""],
        ["CPU ms: worker process", each(busy.worker_cpu * 1000), ""],
    ]  # fmt: skip
    for name, seconds in busy.server_cpu.items():
        rows.append([f"CPU ms: {name}", each(seconds * 1000, 2), ""])
    rows.append(["e-mails/s", f"{EMAILS / busy.seconds:.0f}", "everything on the 2 cores"])
    return rows
