"""Foundation benchmarks: CSV import of 100k rows, admin prospect list at 100k rows."""

import csv
import io
import resource
import time

import pytest
from django.urls import reverse

from crm.csv_import import prospects_import_csv
from tests.benchmarks.report import latency_row, print_table, time_calls

ROWS = 100_000


def generated_csv(rows: int) -> io.StringIO:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Business Name", "Contact", "Email", "Website", "City", "Country", "Tags"])
    for i in range(rows):
        writer.writerow(
            [
                f"Hotel Bench {i}",
                f"Anna {i}",
                f"anna{i}@bench{i}.example",
                f"bench{i}.example",
                ("Lisbon", "Nice", "Rome")[i % 3],
                ("PT", "FR", "IT")[i % 3],
                "bench;csv",
            ]
        )
    buffer.seek(0)
    return buffer


@pytest.mark.django_db(transaction=True)
def test_import_100k_rows():
    stream = generated_csv(ROWS)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    report = prospects_import_csv(stream=stream)
    elapsed = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    assert report.created == ROWS
    print_table(
        "CSV import (manage.py import_prospects)",
        ["rows", "seconds", "rows/s", "peak RSS growth", "target"],
        [
            [
                f"{ROWS:,}",
                f"{elapsed:.1f}",
                f"{ROWS / elapsed:,.0f}",
                f"{(rss_after - rss_before) / 1024:.0f} MiB",
                "≤ 30 s",
            ]
        ],
    )


def test_admin_prospect_changelist_100k(
    hundred_thousand_prospects, admin_client, production_template_rendering
):
    url = reverse("admin:crm_prospect_changelist")
    cases = {
        "unfiltered, page 1": {},
        "unfiltered, page 200": {"p": "200"},
        "stage=ready": {"stage": "ready"},
        "stage + country": {"stage": "contacted", "country": "FR"},
        "search e-mail": {"q": "info4242@hotel4242.example"},
        "search name": {"q": "Hotel 4242"},
    }
    rows = []
    for name, params in cases.items():
        samples = time_calls(lambda p=params: admin_client.get(url, p), repeat=30)
        rows.append(latency_row(name, samples, "p95 ≤ 150 ms"))
    print_table(
        "Admin prospect changelist, 100k prospects (ms)",
        ["case", "median", "p95", "max", "target"],
        rows,
    )
