"""JSON API benchmarks at 100k prospects: list pages and 1,000-row bulk upserts.

Times are measured around Django's test client (request → middleware → view →
JSON), so they are the server's time plus a little client overhead.
"""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crm.models import Campaign, Prospect
from jengu.apikeys.keys import api_key_create
from tests.benchmarks.report import latency_row, print_table, time_calls

TARGET_LIST = "p95 ≤ 25 ms"


@pytest.fixture
def bench_api(hundred_thousand_prospects, client, settings):
    settings.API_RATE_LIMIT_BURST = 1_000_000
    key = api_key_create(name="bench").key
    return client, {"X-API-Key": key}


def _enroll_every_tenth(campaign: Campaign) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_enrollment (prospect_id, campaign_id, current_step, status, variant,
                stop_reason, created_at, updated_at)
            SELECT id, %s, 1, 'active', '', '', now(), now() FROM crm_prospect WHERE id %% 10 = 0
            """,
            [campaign.pk],
        )
        cursor.execute("ANALYZE crm_enrollment")


def test_prospect_list_pages(bench_api) -> None:
    client, headers = bench_api
    campaign = Campaign.objects.create(name="Bench")
    _enroll_every_tenth(campaign)
    middle = Prospect.objects.order_by("pk").values_list("pk", flat=True)[50_000]
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    Prospect.objects.filter(pk__gt=middle, pk__lt=middle + 500).update(updated_at=timezone.now())
    cases = {
        "unfiltered, first page": {},
        "unfiltered, cursor mid-table": {"cursor": middle},
        "stage=ready": {"stage": "ready"},
        "stage + country": {"stage": "contacted", "country": "FR"},
        "email_status + country": {"email_status": "valid", "country": "PT"},
        "campaign (10k enrolled)": {"campaign": campaign.pk},
        "updated_since (500 rows)": {"updated_since": since},
        "search name": {"search": "Hotel 4242"},
        "search e-mail": {"search": "INFO4242@hotel4242.example"},
    }
    rows = []
    for name, params in cases.items():
        params = {"limit": 50, **params}

        def call(p=params):
            response = client.get("/api/v1/prospects", p, headers=headers)
            assert response.status_code == 200 and response.json()["items"]

        for _ in range(3):
            call()  # warm-up outside the CPU measurement
        cpu_start = time.process_time()
        samples = time_calls(call, repeat=50, warmup=0)
        cpu_ms = (time.process_time() - cpu_start) * 1000 / len(samples)
        rows.append([*latency_row(name, samples, TARGET_LIST), f"{cpu_ms:.1f}"])
    print_table(
        "GET /api/v1/prospects, 100k prospects, pages of 50 (ms)",
        ["case", "median", "p95", "max", "target", "CPU/request"],
        rows,
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def _bulk(client, headers, rows: list[dict]) -> tuple[float, dict]:
    body = json.dumps({"prospects": rows})
    start = time.perf_counter()
    response = client.post(
        "/api/v1/prospects/bulk", body, content_type="application/json", headers=headers
    )
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.content[:500]
    return elapsed, response.json()


def test_bulk_upsert_1000(bench_api) -> None:
    client, headers = bench_api

    def rows(start: int, *, phone: str = "") -> list[dict]:
        return [
            {
                "business_name": f"Bulk Hotel {i}",
                "email": f"owner{i}@bulk{i}.example",
                "website": f"bulk{i}.example",
                "city": "Porto",
                "country": "PT",
                "timezone": "Europe/Lisbon",
                "tags": ["bulk"],
                "phone": phone,
            }
            for i in range(start, start + 1000)
        ]

    cases = [
        ("1,000 new", rows(0), "created"),
        ("1,000 existing, changed", rows(0, phone="+351 22"), "updated"),
        ("1,000 existing, unchanged", rows(0, phone="+351 22"), "unchanged"),
        ("500 new + 500 changed", rows(500, phone="+351 23"), None),
    ]
    table = []
    for name, batch, expected in cases:
        elapsed, body = _bulk(client, headers, batch)
        if expected:
            assert body[expected] == 1000, body
        assert body["errors"] == 0
        table.append([name, f"{elapsed * 1000:.0f}", "≤ 1000 ms"])
    print_table(
        "POST /api/v1/prospects/bulk, 1,000 rows, 100k prospects in the table (ms)",
        ["case", "ms", "target"],
        table,
    )
