"""Three regions sending at a steady rate while one region's workers are killed.

The whole system as operators run it: per region a `manage.py rundramatiq --regions R`
process group, the `manage.py crontab` scheduler (which runs the regions' failover
check), an SMTP sink in its own process, PostgreSQL (and, in the benchmark, a
streaming replica serving a dashboard's read every second). Prospects in New York,
Paris and Singapore become due at `rate` e-mails a second; a SendEmailBatch every
second (a scheduler with a one-second batch interval) claims them. Midway the
victim region's process group is SIGKILLed, later started again.

`tests/benchmarks/test_regions_bench.py` runs it at 12 e-mails/s (1M a day) for five
minutes and prints the figures; `tests/outreach/test_regions_simulation.py` runs a
few seconds of it in the suite.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from crm.enrollments import campaign_enroll
from crm.models import Campaign, Enrollment
from jengu.bus import emit
from jengu.events.models import Event
from jengu.failover import regions_down
from jengu.heartbeats import heartbeats_fresh
from outreach.models import EmailMessage
from tests.fakes.smtp_process import SmtpSinkProcess
from tests.outreach.sending_fixtures import make_campaign, make_inbox
from tests.replica_pair import StreamingReplica
from tests.waiting import wait_for
from tests.worker_processes import manage_processes, scheduler_processes

# Each region's prospects, by the timezone that puts them there.
REGION_TIMEZONES = {
    "us-east": "America/New_York",
    "eu-west": "Europe/Paris",
    "asia-pacific": "Asia/Singapore",
}
JENGU_REGIONS = ",".join(REGION_TIMEZONES)
VICTIM = "eu-west"
INBOXES_PER_REGION = 2


@dataclass(frozen=True)
class Plan:
    rate: float  # e-mails due per second, spread evenly over the regions
    seconds: float  # how long e-mails keep coming due
    kill_at: float  # seconds into the load: SIGKILL the victim's process group
    restart_at: float | None  # seconds into the load: start it again (None: never)
    env: dict[str, str]  # for the worker and scheduler processes
    threads: int = 8
    settle_seconds: float = 240.0  # after the load, to let every e-mail go


@dataclass
class Outcome:
    plan: Plan
    campaign: Campaign
    start: float  # epoch seconds: the first e-mail is due
    killed_at: float = 0.0
    restarted_at: float | None = None
    down_seen_at: float | None = None  # the first time the check had the victim down
    due: dict[int, float] = field(default_factory=dict)  # enrollment -> due (epoch s)
    region: dict[int, str] = field(default_factory=dict)  # enrollment -> region
    email: dict[int, str] = field(default_factory=dict)  # enrollment -> address
    deliveries: list[tuple[float, str, str]] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    handed_over: int = 0  # the victim's events the fallback ran
    replica_lag: list[float] = field(default_factory=list)
    load: list[tuple[float, float, float]] = field(default_factory=list)

    def received(self) -> Counter:
        return Counter(rcpt for _, _, rcpt in self.deliveries)

    def duplicated(self) -> list[str]:
        return sorted(rcpt for rcpt, n in self.received().items() if n > 1)

    def missing(self) -> list[int]:
        received = self.received()
        return sorted(e for e, address in self.email.items() if not received[address])

    def in_doubt(self) -> list[int]:
        """Enrollments whose send was killed mid-way (`sending`/`uncertain`)."""
        return sorted(
            EmailMessage.objects.filter(campaign=self.campaign, status__in=IN_DOUBT).values_list(
                "enrollment_id", flat=True
            )
        )

    def latency_by_enrollment(self) -> dict[int, float]:
        """Seconds from due to accepted by the SMTP sink (the first copy), per enrollment."""
        first: dict[str, float] = {}
        for accepted, _, rcpt in self.deliveries:
            first.setdefault(rcpt, accepted)
        by_address = {address: e for e, address in self.email.items()}
        return {by_address[rcpt]: at - self.due[by_address[rcpt]] for rcpt, at in first.items()}

    def latencies(self) -> dict[str, list[float]]:
        """`latency_by_enrollment`, per region."""
        out: dict[str, list[float]] = defaultdict(list)
        for enrollment, latency in self.latency_by_enrollment().items():
            out[self.region[enrollment]].append(latency)
        return out

    def failover_seconds(self) -> float | None:
        """From the kill to the first of the victim's e-mails accepted after it."""
        victims = {self.email[e] for e, r in self.region.items() if r == VICTIM}
        after = [t for t, _, rcpt in self.deliveries if rcpt in victims and t > self.killed_at]
        return min(after) - self.killed_at if after else None


def prospects_create(count: int) -> list[int]:
    """`count` ready prospects, the regions in turn; one statement."""
    timezones = list(REGION_TIMEZONES.values())
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_prospect (business_name, contact_name, email, website, domain, phone,
                city, country, timezone, industry, source, tags, notes, stage, email_status,
                enrichment, score, created_at, updated_at)
            SELECT 'Hotel ' || i, 'Contact ' || i, 'info' || i || '@hotel' || i || '.example',
                '', 'hotel' || i || '.example', '', '', '', (%s::text[])[1 + i %% 3],
                'hospitality', 'simulation', '[]'::jsonb, '', 'ready', 'valid', '{}'::jsonb, 0,
                now(), now()
            FROM generate_series(0, %s - 1) AS i ORDER BY i
            RETURNING id
            """,
            [timezones, count],
        )
        return [row[0] for row in cursor.fetchall()]


def population(plan: Plan, sink: SmtpSinkProcess) -> Campaign:
    """Each region's inboxes, a one-step template campaign and its enrolled prospects,
    due far in the future until `schedule` sets the clock."""
    inboxes = [
        make_inbox(sink, region=region, daily_limit=100_000)
        for region in REGION_TIMEZONES
        for _ in range(INBOXES_PER_REGION)
    ]
    campaign = make_campaign(inboxes, skip_holidays=False)
    prospect_ids = prospects_create(round(plan.rate * plan.seconds))
    campaign_enroll(campaign=campaign, prospect_ids=prospect_ids)
    _due_at(campaign, "'2100-01-01'::timestamptz", [])
    return campaign


def _due_at(campaign: Campaign, due_sql: str, params: list) -> None:
    """Set when each enrollment is due (n: its rank from 0); a test's staging write."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE crm_enrollment AS e SET next_send_at = {due_sql}
            FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                  FROM crm_enrollment WHERE campaign_id = %s) AS ranked
            WHERE e.id = ranked.id
            """,  # noqa: S608 - the expression is the caller's constant
            [*params, campaign.pk],
        )


def schedule(outcome: Outcome) -> None:
    """Enrollment n is due at start + n / rate (a test's staging write, in one statement)."""
    seconds_apart = 1 / outcome.plan.rate
    _due_at(
        outcome.campaign,
        "to_timestamp(%s) + ranked.n * %s * interval '1 second'",
        [outcome.start, seconds_apart],
    )
    rows = Enrollment.objects.filter(campaign=outcome.campaign).values_list(
        "pk", "next_send_at", "prospect__timezone", "prospect__email"
    )
    zones = {zone: region for region, zone in REGION_TIMEZONES.items()}
    for pk, due, zone, address in rows:
        outcome.due[pk], outcome.region[pk], outcome.email[pk] = (
            due.timestamp(),
            zones[zone],
            address,
        )


def region_beating(region: str) -> bool:
    return any(region in beat.regions for beat in heartbeats_fresh(max_age_seconds=5))


def simulate(plan: Plan, *, log_dir: Path, replica: StreamingReplica | None = None) -> Outcome:
    with ExitStack() as stack:
        sink = SmtpSinkProcess(log_dir / "accepted.log").start()
        stack.callback(sink.stop)
        campaign = population(plan, sink)
        start_region = {
            region: stack.enter_context(
                manage_processes(
                    log_dir=log_dir,
                    args=["rundramatiq", "--regions", region, "--processes", "1"]
                    + ["--threads", str(plan.threads)],
                    env=plan.env,
                    name=f"workers-{region}",
                )
            )
            for region in REGION_TIMEZONES
        }
        groups = {region: start() for region, start in start_region.items()}
        stack.enter_context(scheduler_processes(log_dir=log_dir, env=plan.env))()
        for region in REGION_TIMEZONES:
            wait_for(lambda r=region: region_beating(r), 120, f"{region}'s workers to beat")
        outcome = Outcome(plan, campaign, start=time.time() + 1)
        schedule(outcome)
        _drive(outcome, groups, start_region[VICTIM], replica)
        _settle(outcome, replica)
        outcome.deliveries = sink.deliveries()
    return outcome


def _drive(
    outcome: Outcome,
    groups: dict,
    restart: Callable,
    replica: StreamingReplica | None,
) -> None:
    """The load: a batch every second until every e-mail has come due; kill and restart
    the victim on time; sample what the check sees, the replica's lag, the load."""
    plan, end = outcome.plan, outcome.start + outcome.plan.seconds
    while time.time() < end:
        tick = time.time()
        elapsed = tick - outcome.start
        if not outcome.killed_at and elapsed >= plan.kill_at:
            os.killpg(groups[VICTIM].pid, signal.SIGKILL)
            outcome.killed_at = time.time()
        if (
            plan.restart_at is not None
            and outcome.restarted_at is None
            and elapsed >= plan.restart_at
        ):
            groups[VICTIM] = restart()
            outcome.restarted_at = time.time()
        _sample(outcome, replica)
        emit("SendEmailBatch", {})
        time.sleep(max(0.0, 1.0 - (time.time() - tick)))


def _sample(outcome: Outcome, replica: StreamingReplica | None) -> None:
    watching = outcome.killed_at and outcome.down_seen_at is None
    if watching and any(entry.queue.endswith(VICTIM) for entry in regions_down()):
        outcome.down_seen_at = time.time()
    if replica is not None:
        outcome.replica_lag.append(float(replica.execute(REPLICA_LAG_SQL)[0]))
    outcome.load.append(os.getloadavg())


# The replica's lag, as a dashboard reading it would see it: none while it has replayed
# all it received, else the age of its last replayed commit.
REPLICA_LAG_SQL = """
SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
       ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""
# A send killed with its worker stays `sending` (or `uncertain` once DATA had begun):
# in doubt, never resent by itself. The rest must all be settled.
IN_DOUBT = [EmailMessage.Status.SENDING, EmailMessage.Status.UNCERTAIN]


def _settle(outcome: Outcome, replica: StreamingReplica | None) -> None:
    """Keep the batches coming until every enrollment has its e-mail, none still queued."""
    messages = EmailMessage.objects.filter(campaign=outcome.campaign)
    deadline = time.time() + outcome.plan.settle_seconds
    while time.time() < deadline:
        queued = messages.filter(status=EmailMessage.Status.QUEUED).exists()
        if messages.count() >= len(outcome.due) and not queued:
            break
        _sample(outcome, replica)
        emit("SendEmailBatch", {})
        time.sleep(1.0)
    outcome.statuses = Counter(messages.values_list("status", flat=True))
    outcome.handed_over = _handed_over([e for e, r in outcome.region.items() if r == VICTIM])


def _handed_over(enrollment_ids: list[int]) -> int:
    """The victim region's sends that ran on another region's queue."""
    message_ids = list(
        EmailMessage.objects.filter(enrollment_id__in=enrollment_ids).values_list("pk", flat=True)
    )
    return (
        Event.objects.filter(type="SendEmail", payload__message_id__in=message_ids)
        .exclude(queue=f"send-{VICTIM}")
        .count()
    )
