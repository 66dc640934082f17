"""JSON logs carry the trace of the event being processed; Sentry gets it as tags."""

import json
import logging

import pytest

from jengu.bus.envelope import Envelope, Processing, set_processing
from jengu.logs import JsonFormatter, TraceFilter, _tag_trace


@pytest.fixture
def envelope():
    envelope = Envelope.new("EnrichProspect", parent=None, source="test")
    set_processing(Processing(envelope=envelope, queue="enrich", actor="enrich_prospect"))
    yield envelope
    set_processing(None)


def formatted(message: str, **extra) -> dict:
    record = logging.makeLogRecord(
        {"name": "jengu.test", "levelname": "INFO", "msg": message, **extra}
    )
    TraceFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_json_line_has_trace_ids_inside_an_actor(envelope):
    line = formatted("enriched", prospect_id=7)

    assert line["message"] == "enriched"
    assert line["trace_id"] == str(envelope.trace_id)
    assert line["event_id"] == str(envelope.event_id)
    assert line["event_type"] == "EnrichProspect"
    assert line["prospect_id"] == 7


def test_json_line_outside_actors_has_no_trace_fields():
    line = formatted("web request")

    assert "trace_id" not in line
    assert line["level"] == "INFO" and line["logger"] == "jengu.test"


def test_sentry_events_are_tagged_with_the_trace(envelope):
    event = _tag_trace({"tags": {"release": "x"}}, {})

    assert event["tags"] == {
        "release": "x",
        "trace_id": str(envelope.trace_id),
        "event_id": str(envelope.event_id),
        "event_type": "EnrichProspect",
    }
