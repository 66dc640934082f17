"""A deliberately failing event, so an operator can watch retry -> dead letter -> requeue."""

from __future__ import annotations

import time

from jengu.bus import PermanentError, TransientError


def demo_failure_run(*, mode: str, outage_until: float) -> None:
    """Fail like a provider in an outage until `outage_until` (epoch seconds),
    or for ever with a permanent error; succeed after that."""
    if mode == "permanent":
        raise PermanentError("demo: the provider rejected the request (HTTP 400)")
    if time.time() < outage_until:
        raise TransientError("demo: the provider timed out (simulated outage)")
