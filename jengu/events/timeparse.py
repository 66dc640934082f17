"""Command-line times: "30d", "2h", "15m", "90s", or an ISO date/datetime."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    match = _DURATION.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration like 30d, 12h, 15m, 90s")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def parse_since(value: str) -> datetime:
    """A moment: a duration ago ("2h") or an ISO date/datetime (UTC when naive)."""
    try:
        return timezone.now() - parse_duration(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is neither a duration (2h) nor an ISO date") from None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
