"""Counters and histograms land in Redis and come out of /metrics for the whole cluster."""

import pytest
from django.utils import timezone

from jengu.metrics import count, day_series, observe

pytestmark = pytest.mark.django_db


def test_counters_from_any_process_are_exported_with_their_labels(client):
    count("emails_sent", inbox_id=1)
    count("emails_sent", inbox_id=1)
    count("emails_sent", inbox_id=2)
    count("events_processed", queue="enrich", type="EnrichProspect", outcome="failed")

    body = client.get("/metrics").content.decode()

    assert 'jengu_emails_sent_total{inbox_id="1"} 2.0' in body
    assert 'jengu_emails_sent_total{inbox_id="2"} 1.0' in body
    assert (
        'jengu_events_processed_total{outcome="failed",queue="enrich",type="EnrichProspect"} 1.0'
        in body
    )


def test_latency_histogram_is_cumulative_with_sum_and_count(client):
    observe("ai_call_seconds", 0.2, provider="grok:1")
    observe("ai_call_seconds", 3.0, provider="grok:1")

    body = client.get("/metrics").content.decode()

    assert 'jengu_ai_call_seconds_bucket{le="0.25",provider="grok:1"} 1.0' in body
    assert 'jengu_ai_call_seconds_bucket{le="5.0",provider="grok:1"} 2.0' in body
    assert 'jengu_ai_call_seconds_bucket{le="+Inf",provider="grok:1"} 2.0' in body
    assert 'jengu_ai_call_seconds_count{provider="grok:1"} 2.0' in body
    assert 'jengu_ai_call_seconds_sum{provider="grok:1"} 3.2' in body


def test_live_gauges_are_exported(client):
    body = client.get("/metrics").content.decode()

    assert 'jengu_queue_depth{queue="enrich"} 0.0' in body
    assert "jengu_workers_alive 0.0" in body
    assert "jengu_dead_letters_pending 0.0" in body


def test_requests_are_counted_by_view_and_status(client):
    client.get("/health")
    client.get("/health")

    body = client.get("/metrics").content.decode()

    assert 'jengu_http_requests_total{method="GET",status="2xx",view="health"} 2.0' in body


def test_day_series_gives_today_totals_and_mean_durations():
    count("emails_sent", inbox_id=1, campaign_id=7)
    count("emails_sent", inbox_id=2, campaign_id=7)
    observe("email_send_seconds", 1.0, inbox_id=1)
    observe("email_send_seconds", 3.0, inbox_id=2)
    today = timezone.localdate()

    series = day_series([today])[today]

    assert series.total("emails_sent") == 2
    assert series.total("emails_sent", inbox_id="2") == 1
    assert series.by_label("emails_sent", "inbox_id") == {"1": 1, "2": 1}
    assert series.mean_seconds("email_send_seconds") == 2.0


def test_recording_with_redis_down_does_not_raise(settings, caplog):
    from jengu import metrics

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    metrics._client = None
    try:
        count("emails_sent", inbox_id=1)
        observe("email_send_seconds", 0.5)
    finally:
        metrics._client = None
    assert "metric emails_sent not recorded" in caplog.text


def _totals() -> dict[str, int]:
    from jengu.metrics import redis_client

    return {k.decode(): int(v) for k, v in redis_client().hgetall("jengu:metrics:total").items()}


def test_a_buffering_process_writes_its_sums_only_when_flushed():
    from jengu.metrics import (
        daily_key,
        metrics_buffer_start,
        metrics_buffer_stop,
        metrics_flush,
        redis_client,
    )

    metrics_buffer_start(interval=60)
    try:
        count("emails_sent", inbox_id=3)
        count("emails_sent", 2, inbox_id=3)
        observe("email_send_seconds", 0.5, inbox_id=3)
        observe("email_send_seconds", 1.5, inbox_id=3)
        assert "emails_sent|inbox_id=3" not in _totals()

        metrics_flush()

        assert _totals()["emails_sent|inbox_id=3"] == 3
        today = timezone.localdate()
        assert redis_client().ttl(daily_key(today)) > 0  # day series expire
        series = day_series([today])[today]
        assert series.total("emails_sent", inbox_id="3") == 3
        assert series.mean_seconds("email_send_seconds", inbox_id="3") == 1.0
        count("emails_sent", inbox_id=3)
    finally:
        metrics_buffer_stop()
    # The last stop writes what is left; later calls write at once again.
    assert _totals()["emails_sent|inbox_id=3"] == 4
    count("emails_sent", inbox_id=3)
    assert _totals()["emails_sent|inbox_id=3"] == 5


def test_a_failed_flush_is_logged_and_does_not_raise(settings, caplog):
    from jengu import metrics

    buffer = metrics.metrics_buffer_start(interval=60)
    try:
        count("emails_sent", inbox_id=4)
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        metrics._client = None
        buffer.flush()
    finally:
        metrics.metrics_buffer_stop()
        metrics._client = None
    assert "metric series not recorded" in caplog.text


def test_a_buffering_process_writes_its_sums_every_interval_by_itself():
    import time

    from jengu.metrics import metrics_buffer_start, metrics_buffer_stop

    metrics_buffer_start(interval=0.05)
    try:
        count("emails_sent", inbox_id=5)
        deadline = time.monotonic() + 5
        while "emails_sent|inbox_id=5" not in _totals():
            assert time.monotonic() < deadline, "the flusher thread did not write"
            time.sleep(0.01)
    finally:
        metrics_buffer_stop()
    assert _totals()["emails_sent|inbox_id=5"] == 1
