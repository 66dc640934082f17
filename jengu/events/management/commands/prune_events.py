"""Keep the event log bounded: `manage.py prune_events --older-than 30d`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jengu.events import services
from jengu.events.timeparse import parse_duration


class Command(BaseCommand):
    help = "Delete events, and discarded/resolved dead letters, older than a duration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", default="30d", help="e.g. 30d (default), 12h")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            age = parse_duration(options["older_than"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        events, dead_letters = services.events_prune(older_than=age)
        self.stdout.write(f"Deleted {events} event(s) and {dead_letters} closed dead letter(s).")
