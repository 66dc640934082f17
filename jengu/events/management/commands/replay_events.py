"""Re-emit recorded events: `manage.py replay_events --trace ID` or `--type T --since 2h`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jengu.events import selectors, services
from jengu.events.timeparse import parse_since


class Command(BaseCommand):
    help = (
        "Replay events as new events in their original traces (consumers are idempotent). "
        "--trace replays the trace's first event(s); their actors emit the rest again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--trace", help="trace id")
        parser.add_argument("--type", dest="event_type", help="event type (with --since)")
        parser.add_argument("--since", help="2h, 3d, or an ISO date/datetime (with --type)")
        parser.add_argument("--dry-run", action="store_true", help="list, emit nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        trace, event_type, since = options["trace"], options["event_type"], options["since"]
        if (trace and (event_type or since)) or (not trace and not (event_type and since)):
            raise CommandError("give either --trace ID, or --type T and --since TIME")
        try:
            moment = parse_since(since) if since else None
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        events = selectors.events_to_replay(trace_id=trace, event_type=event_type, since=moment)
        if options["dry_run"]:
            for event in events[:50]:
                when = f"{event.created_at:%Y-%m-%d %H:%M:%S}"
                self.stdout.write(f"{when} {event.type} {event.event_id}")
            self.stdout.write(f"Would replay {events.count()} event(s).")
            return
        envelopes = services.events_replay(events=events.iterator(chunk_size=500))
        self.stdout.write(self.style.SUCCESS(f"Replayed {len(envelopes)} event(s)."))
