"""`manage.py import_prospects FILE.csv [--campaign ID] [--dry-run]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.csv_import import ImportFileError, prospects_import_csv
from crm.models import Campaign, Prospect, Stage
from crm.services import prospects_enqueue_enrichment


class Command(BaseCommand):
    help = "Upsert prospects from a CSV file (by e-mail, else business name + city)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file, UTF-8 (a BOM is fine), with a header row")
        parser.add_argument("--campaign", type=int, help="enroll imported prospects in this id")
        parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
        parser.add_argument("--source", default="csv", help="recorded on new prospects")
        parser.add_argument(
            "--enrich", action="store_true", help="queue enrichment for imported new prospects"
        )

    def handle(
        self, *args, file: str, campaign: int | None, dry_run: bool, source: str, enrich: bool, **kw
    ) -> None:
        target = self._campaign(campaign)
        try:
            with open(file, encoding="utf-8-sig", newline="") as stream:
                report = prospects_import_csv(
                    stream=stream, source=source, campaign=target, dry_run=dry_run
                )
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from None
        for line, reason in report.errors:
            self.stderr.write(f"line {line}: {reason}")
        prefix = "dry run, nothing written: " if dry_run else ""
        summary = (
            f"{prefix}created: {report.created}, updated: {report.updated}, "
            f"unchanged: {report.unchanged}, skipped: {report.skipped}"
        )
        if target is not None and not dry_run:
            summary += f", enrolled in {target.name!r}: {report.enrolled}"
        if enrich and not dry_run:
            summary += f", queued for enrichment: {self._enrich(report.prospect_ids)}"
        self.stdout.write(summary)

    def _enrich(self, prospect_ids: list[int]) -> int:
        queued = 0
        for start in range(0, len(prospect_ids), 1000):
            chunk = prospect_ids[start : start + 1000]
            new = Prospect.objects.filter(pk__in=chunk, stage=Stage.NEW).only("id", "stage")
            queued += len(prospects_enqueue_enrichment(prospects=new).queued)
        return queued

    def _campaign(self, campaign_id: int | None) -> Campaign | None:
        if campaign_id is None:
            return None
        try:
            return Campaign.objects.get(pk=campaign_id)
        except Campaign.DoesNotExist:
            raise CommandError(f"campaign {campaign_id} does not exist") from None
