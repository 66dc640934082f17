"""`manage.py send_batch [--campaign ID] [--dry-run]`: run one send batch now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crm.models import Campaign
from outreach.sending.batch import send_batch_run


class Command(BaseCommand):
    help = "Claim due enrollments and queue their e-mails now; prints what was skipped and why."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--campaign", type=int, help="Only this campaign id.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be selected; change nothing."
        )

    def handle(self, *args, campaign: int | None = None, dry_run: bool = False, **options) -> None:
        chosen = None
        if campaign is not None:
            chosen = Campaign.objects.filter(pk=campaign).first()
            if chosen is None:
                raise CommandError(f"no campaign with id {campaign}")
        report = send_batch_run(campaign=chosen, dry_run=dry_run)
        verb = "would be queued" if dry_run else "queued for compose"
        self.stdout.write(f"{len(report.selected)} enrollment(s) {verb}")
        if report.selected:
            self.stdout.write("  ids: " + ", ".join(map(str, report.selected)))
        if report.stopped:
            self.stdout.write(f"{report.stopped} sequence(s) stopped (suppressed or replied)")
        for reason, count in report.skipped.most_common():
            self.stdout.write(f"skipped {count:>6}  {reason}")
