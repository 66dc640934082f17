"""Dashboard benchmarks: 100k prospects, 500k messages, 2M events.

Server time of the pages through Django's test client (routing, queries, templates),
p95 over repeated requests; `/health` must stay cheap enough to poll every second.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from crm.models import Campaign
from outreach.dashboard.rollups import daily_stats_rollup
from tests.benchmarks.report import latency_row, percentile, print_table, time_calls
from tests.bulk_data import prospects_generate
from tests.observability.conftest import clear_observability_keys
from tests.roles import role_user

MESSAGES = 500_000
EVENTS = 2_000_000
CAMPAIGNS = 5


def generate_pipeline_data() -> None:
    """Campaigns, an enrollment per prospect, 500k messages over 30 days, 2M events."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_inbox (email, display_name, transport, smtp_host, smtp_port,
                smtp_username, smtp_password, smtp_security, resend_api_key, imap_host,
                imap_port, imap_username, imap_password, imap_security, imap_folder,
                imap_sent_folder, daily_limit, warmup_enabled, warmup_start, warmup_ramp,
                min_gap_seconds, active, sending_paused, bounce_count, last_error,
                created_at, updated_at)
            SELECT 'sales' || i || '@bench.example', 'Sales', 'smtp', '127.0.0.1', 2525, '',
                '', 'none', '', '', 993, '', '', 'tls', 'INBOX', 'Sent', 500, false,
                current_date, '[]'::jsonb, 60, true, false, 0, '', now(), now()
            FROM generate_series(1, 10) AS i
            """
        )
        cursor.execute("SELECT id FROM crm_inbox ORDER BY id")
        inbox_ids = [row[0] for row in cursor.fetchall()]
    for i in range(CAMPAIGNS):
        campaign = Campaign.objects.create(name=f"Bench campaign {i}", status="active")
        campaign.steps.create(order=1, subject_template="Hi", body_template="Hello")
        campaign.steps.create(order=2, delay_days=3, subject_template="Re", body_template="Re")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_enrollment (prospect_id, campaign_id, current_step, status,
                variant, stop_reason, created_at, updated_at)
            SELECT p.id, (SELECT min(id) FROM crm_campaign) + p.id %% %(campaigns)s, 2,
                'active', CASE WHEN p.id %% 2 = 0 THEN 'A' ELSE 'B' END, '', now(), now()
            FROM crm_prospect p
            """,
            {"campaigns": CAMPAIGNS},
        )
        cursor.execute(
            """
            INSERT INTO outreach_emailmessage (direction, prospect_id, enrollment_id,
                campaign_id, step, variant, inbox_id, from_email, to_email, subject, body,
                message_id, in_reply_to, status, idempotency_key, provider, error, sent_at,
                created_at, updated_at, review_note, reviewed_by)
            SELECT CASE WHEN i %% 10 = 0 THEN 'inbound' ELSE 'outbound' END,
                e.prospect_id, e.id, e.campaign_id, 1 + i %% 2, e.variant,
                %(first_inbox)s + i %% 10, 'sales@bench.example', 'x@bench.example',
                'Subject ' || i, 'Body', '<m' || i || '@bench.example>', '',
                (ARRAY['sent','sent','sent','sent','sent','sent','bounced','failed',
                       'pending_approval','received'])[1 + i %% 10],
                NULL, 'template', '', ts, ts, ts, '', ''
            FROM generate_series(1, %(messages)s) AS i
            JOIN crm_enrollment e ON e.id = (SELECT min(id) FROM crm_enrollment) + i %% 100000
            CROSS JOIN LATERAL (SELECT now() - ((i %% 30) || ' days')::interval
                - ((i %% 86000) || ' seconds')::interval AS ts) t
            """,
            {"messages": MESSAGES, "first_inbox": inbox_ids[0]},
        )
        cursor.execute(
            """
            INSERT INTO events_event (event_id, trace_id, parent_id, type, source, queue,
                actor, status, payload, attempts, duration_ms, error, created_at)
            SELECT gen_random_uuid(), gen_random_uuid(), NULL,
                (ARRAY['EnrichProspect','ValidateEmail','ComposeEmail','SendEmail'])[1 + i %% 4],
                'bench', 'enrich', '', 'succeeded',
                jsonb_build_object('prospect_id', 1 + i %% 100000), 1, 12.5, '',
                now() - ((i %% 2592000) || ' seconds')::interval
            FROM generate_series(1, %(events)s) AS i
            """,
            {"events": EVENTS},
        )
        for table in ("crm_enrollment", "outreach_emailmessage", "events_event"):
            cursor.execute(f"ANALYZE {table}")  # noqa: S608 - fixed table names


@pytest.fixture(scope="module")
def big_dataset(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        prospects_generate(100_000)
        generate_pipeline_data()
        today = timezone.localdate()
        for back in range(30):
            daily_stats_rollup(day=today - timedelta(days=back))
        role_user("Operator", username="bench", password="bench-pass", staff=True)
        yield
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE events_event, outreach_emailmessage, crm_enrollment, crm_campaignstep,"
                " crm_campaign, crm_inbox, crm_prospect, crm_dailystat, auth_user CASCADE"
            )


@pytest.mark.django_db
def test_dashboard_pages_at_scale(big_dataset, django_db_blocker):
    clear_observability_keys()
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    campaign = Campaign.objects.order_by("id").first()
    pages = [
        ("overview /", "/", 150),
        ("overview panels (live poll)", "/overview/panels/", 150),
        ("prospects list", "/prospects/", 150),
        ("prospects ?stage&country", "/prospects/?stage=ready&country=PT", 150),
        ("prospects ?campaign", f"/prospects/?campaign={campaign.id}", 150),
        ("prospects ?q= search", "/prospects/?q=hotel%2012345", 150),
        ("campaigns", "/campaigns/", 150),
        ("campaign detail", f"/campaigns/{campaign.id}/", 150),
        ("/health", "/health", 20),
    ]
    rows, slow = [], []
    for name, path, target in pages:
        assert client.get(path).status_code in (200, 503), path
        samples = time_calls(lambda path=path: client.get(path), repeat=30)
        rows.append(latency_row(name, samples, f"p95 ≤ {target} ms"))
        if percentile(samples, 95) > target:
            slow.append(name)
    print_table(
        "Dashboard at 100k prospects / 500k messages / 2M events (server time, ms)",
        ["page", "median", "p95", "max", "target"],
        rows,
    )
    assert not slow, f"over target: {slow}"
