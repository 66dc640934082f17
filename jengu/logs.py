"""Structured logs and Sentry: every line and error carries the current trace.

`LOG_FORMAT=json` writes one JSON object per line (for log shippers); `plain` is
for humans. Both get `trace_id` / `event_id` / `event_type` from the event being
processed, so `grep <trace_id>` over all processes' logs tells one story.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from jengu.bus.envelope import current_envelope
from jengu.scrubbing import scrub_event

# Attributes every LogRecord has; anything else was passed with `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
TRACE_FIELDS = ("trace_id", "event_id", "event_type")


def current_trace() -> dict[str, str]:
    """The envelope of the event this thread is processing, or {} outside actors."""
    envelope = current_envelope()
    if envelope is None:
        return {}
    return {
        "trace_id": str(envelope.trace_id),
        "event_id": str(envelope.event_id),
        "event_type": envelope.type,
    }


class TraceFilter(logging.Filter):
    """Adds the current trace ids to each record (kept if the caller passed its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_trace().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace ids, extras."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def _tag_trace(event: dict, hint: dict) -> dict:
    """Sentry `before_send`: the trace ids become searchable tags."""
    tags = event.setdefault("tags", {})
    for key, value in current_trace().items():
        tags.setdefault(key, value)
    return event


def _before_send(event: dict, hint: dict) -> dict:
    return scrub_event(_tag_trace(event, hint), hint)


def sentry_options(dsn: str) -> dict:
    """Options of `sentry_sdk.init`: Django, trace tags, secrets scrubbed (jengu/scrubbing.py)."""
    from sentry_sdk.integrations.django import DjangoIntegration

    return {
        "dsn": dsn,
        "integrations": [DjangoIntegration()],
        "before_send": _before_send,
        "send_default_pii": False,
    }


def init_sentry(dsn: str) -> None:
    import sentry_sdk

    sentry_sdk.init(**sentry_options(dsn))
