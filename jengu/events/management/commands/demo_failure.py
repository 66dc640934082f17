"""Watch the failure path: `manage.py demo_failure [--permanent] [--outage 60]`."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from jengu.bus import emit


class Command(BaseCommand):
    help = (
        "Emit a DemoFailure event on the enrich queue. Its actor fails like a provider "
        "in an outage (retries with backoff, then a dead letter) until --outage seconds "
        "have passed; requeue it after that and it succeeds. --permanent fails at once, "
        "without retries, and raises an alert."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--permanent", action="store_true", help="a non-retryable failure")
        parser.add_argument("--outage", type=int, default=60, help="seconds the outage lasts")

    def handle(self, *args: Any, **options: Any) -> None:
        mode = "permanent" if options["permanent"] else "transient"
        envelope = emit(
            "DemoFailure",
            {"mode": mode, "outage_until": time.time() + options["outage"]},
            source="demo",
        )
        base = settings.PUBLIC_BASE_URL
        trace = reverse("admin:events_event_trace", args=[envelope.trace_id])
        dead_letters = reverse("admin:events_deadletter_changelist")
        self.stdout.write(f"Emitted DemoFailure ({mode}) event {envelope.event_id}")
        self.stdout.write("Run a worker (`manage.py rundramatiq`) to watch it fail, then:")
        self.stdout.write(f"  trace:        {base}{trace}")
        self.stdout.write(f"  dead letters: {base}{dead_letters}")
        self.stdout.write("  requeue:      the admin action, or `manage.py requeue_dead_letters`")
        # Last line: the bare trace id, for scripts.
        self.stdout.write(str(envelope.trace_id))
