"""Print the event catalogue: `manage.py events > docs/events.md`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jengu.events.catalogue import catalogue_markdown, event_catalogue


class Command(BaseCommand):
    help = "Print every event with its queue, actor, schedule, retries and what it emits."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(catalogue_markdown(event_catalogue()), ending="")
