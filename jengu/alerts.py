"""Operator alerts. One function so callers do not care where alerts go.

For now an alert is an ERROR log line; the observability issue adds the
`ALERT_WEBHOOK_URL` delivery behind this same signature.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("jengu.alerts")


def alert(kind: str, message: str, **context: Any) -> None:
    """Tell an operator that `kind` happened (e.g. "dead_letter", "breaker_open")."""
    details = " ".join(f"{name}={value}" for name, value in sorted(context.items()))
    logger.error("ALERT %s: %s %s", kind, message, details)
