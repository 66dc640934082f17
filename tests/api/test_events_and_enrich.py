"""Traces, dead letters and the enrich action through the API."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from jengu.events.models import DeadLetter, Event
from tests.api.conftest import ApiClient
from tests.factories import ProspectFactory

pytestmark = pytest.mark.django_db


def _event(trace_id: uuid.UUID, parent: Event | None = None, **fields) -> Event:
    return Event.objects.create(
        event_id=uuid.uuid4(),
        trace_id=trace_id,
        parent_id=parent.event_id if parent else None,
        **{"type": "EnrichProspect", "status": "succeeded", **fields},
    )


def _dead_letter(**fields) -> DeadLetter:
    envelope_id, trace_id = uuid.uuid4(), uuid.uuid4()
    now = timezone.now()
    return DeadLetter.objects.create(
        **{
            "event_id": envelope_id,
            "trace_id": trace_id,
            "event_type": "DeliverWebhook",
            "queue": "track",
            "actor": "jengu.apikeys.tasks.deliver_webhook",
            "envelope": {
                "event_id": str(envelope_id),
                "type": "DeliverWebhook",
                "trace_id": str(trace_id),
                "parent_id": None,
                "source": "test",
                "retry_count": 3,
                "timestamp": now.isoformat(),
            },
            "args": {"delivery_id": 1},
            "exception_type": "PermanentError",
            "classification": "permanent",
            "attempts": 1,
            "first_failed_at": now,
            "last_failed_at": now,
            **fields,
        }
    )


def test_trace_is_returned_depth_first(api: ApiClient) -> None:
    trace_id = uuid.uuid4()
    root = _event(trace_id, type="EnrichProspect")
    child = _event(trace_id, root, type="ValidateEmail")
    _event(uuid.uuid4())  # another trace
    body = api.get(f"/traces/{trace_id}").json()
    assert [(e["type"], e["depth"]) for e in body["events"]] == [
        ("EnrichProspect", 0),
        ("ValidateEmail", 1),
    ]
    assert body["events"][1]["parent_id"] == str(root.event_id)
    assert body["events"][1]["event_id"] == str(child.event_id)


def test_unknown_trace_is_404_and_bad_id_is_422(api: ApiClient) -> None:
    assert api.get(f"/traces/{uuid.uuid4()}").status_code == 404
    assert api.get("/traces/not-a-uuid").status_code == 422


def test_dead_letters_list_filters(api: ApiClient) -> None:
    pending = _dead_letter()
    _dead_letter(status="discarded", queue="send", event_type="SendEmail")
    items = api.get("/dead-letters", status="pending").json()["items"]
    assert [item["id"] for item in items] == [pending.pk]
    assert len(api.get("/dead-letters", queue="send").json()["items"]) == 1
    assert api.get(f"/dead-letters/{pending.pk}").json()["args"] == {"delivery_id": 1}


def test_requeue_and_discard(api: ApiClient, read_only_api: ApiClient) -> None:
    first, second = _dead_letter(), _dead_letter()
    assert read_only_api.post(f"/dead-letters/{first.pk}/requeue").status_code == 403
    response = api.post(f"/dead-letters/{first.pk}/requeue")
    assert response.status_code == 200
    assert response.json()["status"] == "requeued" and response.json()["requeue_count"] == 1
    discarded = api.post(f"/dead-letters/{second.pk}/discard", {"note": "receiver retired"})
    assert discarded.json()["status"] == "discarded"
    assert DeadLetter.objects.get(pk=second.pk).note == "receiver retired"


def test_resolved_dead_letter_cannot_be_requeued(api: ApiClient) -> None:
    resolved = _dead_letter(status="resolved")
    assert api.post(f"/dead-letters/{resolved.pk}/requeue").status_code == 409
    assert api.post(f"/dead-letters/{resolved.pk}/discard", {}).status_code == 409


def test_enrich_queues_a_new_prospect_and_explains_a_refusal(api: ApiClient) -> None:
    fresh = ProspectFactory(stage="new")
    body = api.post(f"/prospects/{fresh.pk}/enrich").json()
    assert body == {"id": fresh.pk, "enqueued": True, "reason": "", "stage": "new"}
    assert Event.objects.filter(type="EnrichProspect", payload={"prospect_id": fresh.pk}).exists()
    done = ProspectFactory(stage="won")
    refused = api.post(f"/prospects/{done.pk}/enrich")
    assert refused.status_code == 202
    assert refused.json()["enqueued"] is False and "won" in refused.json()["reason"]
