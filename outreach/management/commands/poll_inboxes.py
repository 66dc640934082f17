"""Poll every inbox with IMAP settings once and store new messages (the scheduler does this
every IMAP_POLL_INTERVAL_MINUTES; this runs it now)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crm.models import Inbox
from outreach.replies.imap import inbox_poll, inboxes_poll


class Command(BaseCommand):
    help = "Fetch new messages from every inbox with IMAP settings (or one, with --inbox)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--inbox", type=int, help="Only this inbox id.")

    def handle(self, *args, inbox: int | None = None, **options) -> None:
        if inbox is not None:
            found = Inbox.objects.filter(pk=inbox).exclude(imap_host="").first()
            if found is None:
                raise CommandError(f"no inbox {inbox} with IMAP settings")
            results = [inbox_poll(inbox=found)]
        else:
            results = inboxes_poll()
        for result in results:
            outcome = result.error or result.skipped or f"{len(result.stored)} new"
            self.stdout.write(f"inbox {result.inbox_id} {result.folder}: {outcome}")
        if any(result.error for result in results):
            raise CommandError("some inboxes could not be polled (see above)")
