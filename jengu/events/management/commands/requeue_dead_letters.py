"""Requeue dead letters in bulk: `manage.py requeue_dead_letters --queue enrich --since 2h`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jengu.events import services
from jengu.events.models import DeadLetter
from jengu.events.timeparse import parse_since
from jengu.failures import CLASSIFICATIONS


class Command(BaseCommand):
    help = "Requeue pending dead letters (same event ids and traces, fresh retry budgets)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", help="only this queue (and its regional variants)")
        parser.add_argument("--reason", choices=CLASSIFICATIONS, help="only this classification")
        parser.add_argument("--type", dest="event_type", help="only this event type")
        parser.add_argument("--since", help="failed since: 2h, 3d, or an ISO date/datetime")
        parser.add_argument(
            "--status",
            default=DeadLetter.Status.PENDING,
            choices=[DeadLetter.Status.PENDING, DeadLetter.Status.DISCARDED],
            help="which dead letters (default: pending)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count, requeue nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        queryset = DeadLetter.objects.filter(status=options["status"])
        if options["queue"]:
            queryset = queryset.filter(queue__startswith=options["queue"])
        if options["reason"]:
            queryset = queryset.filter(classification=options["reason"])
        if options["event_type"]:
            queryset = queryset.filter(event_type=options["event_type"])
        if options["since"]:
            try:
                queryset = queryset.filter(last_failed_at__gte=parse_since(options["since"]))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        if options["dry_run"]:
            self.stdout.write(f"Would requeue {queryset.count()} dead letter(s).")
            return
        count = services.dead_letters_requeue(queryset=queryset)
        self.stdout.write(self.style.SUCCESS(f"Requeued {count} dead letter(s)."))
