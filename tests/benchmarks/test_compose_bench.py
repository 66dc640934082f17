"""Compose benchmarks: 1,000 e-mails through the gateway with loopback fake providers."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from crm.models import CampaignStep, Enrollment, Prospect
from jengu.redis_helpers import get_redis
from outreach.compose import message_compose
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


@pytest.mark.django_db(transaction=True)
def test_compose_1000_emails(settings, fake_grok, fake_claude):  # noqa: F811
    settings.XAI_API_KEYS = ["bench-1", "bench-2"]
    settings.XAI_BASE_URL = fake_grok.url
    settings.ANTHROPIC_API_KEY = "bench-claude"
    settings.ANTHROPIC_BASE_URL = fake_claude.url
    settings.AI_BUCKET_CAPACITY = 100_000
    settings.AI_BUCKET_REFILL_PER_SECOND = 100_000
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
