"""Run stored inbound mail through the pipeline again, e.g. after a parser or rules fix."""

from __future__ import annotations

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from outreach.models import InboundEmail
from outreach.replies.errors import MalformedEmailError
from outreach.replies.services import inbound_reprocess


def _since(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since {value!r}: use YYYY-MM-DD or an ISO 8601 time")
        parsed = datetime.combine(day, time.min)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class Command(BaseCommand):
    help = "Reprocess stored inbound messages (all, or received since a date, or by id)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", help="Received at or after this date/time.")
        parser.add_argument("--id", type=int, action="append", dest="ids", help="Inbound id.")
        parser.add_argument("--failed", action="store_true", help="Only those that failed.")

    def handle(self, *args, since=None, ids=None, failed=False, **options) -> None:
        rows = InboundEmail.objects.order_by("pk")
        if since:
            rows = rows.filter(received_at__gte=_since(since))
        if ids:
            rows = rows.filter(pk__in=ids)
        if failed:
            rows = rows.filter(status=InboundEmail.Status.FAILED)
        done = errors = 0
        for inbound in rows.iterator(chunk_size=200):
            try:
                result = inbound_reprocess(inbound=inbound)
            except MalformedEmailError as exc:
                errors += 1
                self.stderr.write(f"inbound {inbound.pk}: {exc}")
                continue
            done += 1
            self.stdout.write(f"inbound {inbound.pk}: {result.status} {result.label}")
        self.stdout.write(f"{done} reprocessed, {errors} malformed")
