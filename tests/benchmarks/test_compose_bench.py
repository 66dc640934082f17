"""Compose benchmarks with loopback fake providers: 1,000 e-mails through the gateway,
a batch through a worker under the providers' rate limits, and hostile step templates."""

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import dramatiq
import pytest
from django.db import connection

from crm.models import CampaignStep, Enrollment, Prospect
from jengu.bus import emit_many
from jengu.events.models import Event
from jengu.redis_helpers import get_redis
from outreach import tasks  # noqa: F401 - declares ComposeEmail before the worker starts
from outreach.ai.sandbox import TemplateLimitError, sandbox_render
from outreach.compose import message_compose
from outreach.models import EmailMessage
from tests.benchmarks.report import latency_row, print_table
from tests.factories import CampaignFactory
from tests.fakes.llm import fake_claude, fake_grok  # noqa: F401 - fixtures

EMAILS = 1000


def enrollments_for(name: str, count: int) -> tuple[CampaignStep, list[Enrollment]]:
    campaign = CampaignFactory(name=f"bench {name}")
    step = CampaignStep.objects.create(
        campaign=campaign,
        order=1,
        subject_template="{Quick|Short} question for {{ business_name }}",
        body_template="{Hi|Hello} {{ contact_first_name }},\n\nA note about {{ business_name }}.",
    )
    prospects = Prospect.objects.bulk_create(
        Prospect(
            business_name=f"Hotel {name} {i}",
            contact_name=f"Anna {i}",
            email=f"anna{i}@{name.replace(' ', '-')}{i}.example",
            city="Lisbon",
            enrichment={"rooms": i % 80, "summary": "Family-run hotel by the sea."},
        )
        for i in range(count)
    )
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(prospect=p, campaign=campaign) for p in prospects
    )
    return step, list(Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]))


def compose_all(step, enrollments, threads: int) -> tuple[list[float], float]:
    def one(enrollment) -> float:
        start = time.perf_counter()
        try:
            message_compose(enrollment=enrollment, step=step)
        finally:
            if threads > 1:
                connection.close()
        return (time.perf_counter() - start) * 1000

    start = time.perf_counter()
    if threads == 1:
        samples = [one(e) for e in enrollments]
    else:
        with ThreadPoolExecutor(threads) as pool:
            samples = list(pool.map(one, enrollments))
    return samples, time.perf_counter() - start


def all_down(*fakes) -> None:
    for fake in fakes:
        fake.behave("error")


def no_keys(settings) -> None:
    settings.XAI_API_KEYS = []
    settings.ANTHROPIC_API_KEY = ""


def fake_providers(settings, fake_grok, fake_claude, *, capacity: int, refill: float) -> None:  # noqa: F811
    """Two Grok keys and Claude on the loopback fakes, with buckets of this size."""
    settings.XAI_API_KEYS = ["bench-1", "bench-2"]
    settings.XAI_BASE_URL = fake_grok.url
    settings.ANTHROPIC_API_KEY = "bench-claude"
    settings.ANTHROPIC_BASE_URL = fake_claude.url
    settings.AI_BUCKET_CAPACITY = capacity
    settings.AI_BUCKET_REFILL_PER_SECOND = refill


@pytest.mark.django_db(transaction=True)
def test_compose_1000_emails(settings, fake_grok, fake_claude):  # noqa: F811
    fake_providers(settings, fake_grok, fake_claude, capacity=100_000, refill=100_000)
    scenarios = [
        ("AI healthy (grok:1 answers)", lambda: None, 1),
        ("AI healthy, 8 threads", lambda: None, 8),
        ("primary down (grok:1 500s)", lambda: fake_grok.behave("error", key="bench-1"), 1),
        ("all AI down -> template", lambda: all_down(fake_grok, fake_claude), 1),
        ("no AI keys (template only)", lambda: no_keys(settings), 1),
    ]
    rows = []
    for name, arrange, threads in scenarios:
        client = get_redis()
        for key in client.scan_iter("jengu:*:ai:*"):
            client.delete(key)
        fake_grok.behave("ok")
        fake_claude.behave("ok")
        arrange()
        step, enrollments = enrollments_for(name, EMAILS)
        samples, elapsed = compose_all(step, enrollments, threads)
        rows.append([*latency_row(name, samples, target=str(threads)), f"{EMAILS / elapsed:.0f}"])
    print_table(
        f"Compose {EMAILS} e-mails (fake providers on loopback, real PostgreSQL and Redis)",
        ["scenario", "median ms", "p95 ms", "max ms", "threads", "e-mails/s"],
        rows,
    )


# --- A batch under the providers' real rate limits ------------------------------------

BATCH = 100  # ten times the default bucket capacity
WORKER_THREADS = 8


def _compose_batch(name: str) -> tuple[float, Counter, int]:
    """Emit BATCH first touches and wait for the worker: (seconds, e-mails per writer,
    composes re-queued to wait for a busy provider)."""
    step, enrollments = enrollments_for(name, BATCH)
    broker = dramatiq.get_broker()
    started = time.perf_counter()
    emit_many("ComposeEmail", [{"enrollment_id": e.pk, "step": 1} for e in enrollments])
    broker.join("compose", timeout=300_000)
    elapsed = time.perf_counter() - started
    writers = Counter(
        EmailMessage.objects.filter(campaign=step.campaign).values_list("provider", flat=True)
    )
    assert sum(writers.values()) == BATCH
    requeued = Event.objects.filter(
        type="ComposeEmail", payload__enrollment_id__in=[e.pk for e in enrollments]
    ).exclude(parent_id=None)
    return elapsed, writers, requeued.count()


def _shares(writers: Counter) -> str:
    return ", ".join(f"{name} {100 * n / BATCH:.0f} %" for name, n in writers.most_common())


@pytest.mark.django_db(transaction=True)
def test_compose_batch_under_rate_limits(settings, fake_grok, fake_claude):  # noqa: F811
    # The deployed bucket defaults: 10 calls, then 2 a second, per provider.
    fake_providers(settings, fake_grok, fake_claude, capacity=10, refill=2)
    scenarios = [
        ("all healthy", {}, lambda writers: "template" not in writers),
        ("grok:1 down", {"bench-1": "error"}, lambda writers: "template" not in writers),
        ("Grok down", {None: "error"}, lambda writers: writers == {"claude": BATCH}),
    ]
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(
        broker, queues={"compose"}, worker_timeout=50, worker_threads=WORKER_THREADS
    )
    worker.start()
    rows = []
    try:
        for name, grok_modes, expected in scenarios:
            _fresh_ai_state(fake_grok, fake_claude)
            for key, mode in grok_modes.items():
                fake_grok.behave(mode, key=key)
            elapsed, writers, requeued = _compose_batch(name)
            assert expected(writers), writers
            rows.append([name, f"{elapsed:.1f}", _shares(writers), str(requeued)])
        _fresh_ai_state(fake_grok, fake_claude)
        all_down(fake_grok, fake_claude)
        elapsed, writers, requeued = _compose_batch("all down")
        assert writers == {"template": BATCH}
        rows.append(["all down", f"{elapsed:.1f}", _shares(writers), str(requeued)])
    finally:
        worker.stop()
        broker.flush_all()
    print_table(
        f"Compose a batch of {BATCH} first touches: buckets of 10 calls then 2/s per provider "
        f"(grok:1, grok:2, claude), 1 worker x {WORKER_THREADS} threads",
        ["providers", "wall time (s)", "written by", "composes re-queued to wait"],
        rows,
    )


def _fresh_ai_state(*fakes) -> None:
    client = get_redis()
    for key in client.scan_iter("jengu:*:ai:*"):
        client.delete(key)
    for fake in fakes:
        fake.behave("ok")


# --- Step templates written to hurt ---------------------------------------------------

HOSTILE_TEMPLATES = {
    "25,000 unclosed {{": "{{" * 25_000,
    "25,000 unclosed {%": "{%" * 25_000,
    "12,000 nested spintax groups": "{a|" * 12_000 + "}" * 12_000,
    "nested loops over 4,000 characters": (
        "{% for a in facts_json %}{% for b in facts_json %}x{% endfor %}{% endfor %}"
    ),
}


def test_hostile_step_templates_render_or_fail_in_bounded_time():
    rows = []
    for name, template in HOSTILE_TEMPLATES.items():
        started = time.perf_counter()
        try:
            sandbox_render(template, context={"facts_json": "j" * 4000}, seed="bench")
            outcome = "rendered"
        except TemplateLimitError as exc:
            outcome = f"refused: {exc}"
        rows.append([name, f"{(time.perf_counter() - started) * 1000:.0f}", outcome])
    print_table(
        "Step templates written to hurt (limit: 50,000 characters of source)",
        ["template", "ms", "outcome"],
        rows,
    )
