"""`manage.py enrich_prospects [--stage new] [--limit N]`: queue enrichment in bulk."""

from django.core.management.base import BaseCommand, CommandError

from crm.models import Prospect, Stage
from crm.services import ENRICHABLE_STAGES, prospects_enqueue_enrichment


class Command(BaseCommand):
    help = "Queue EnrichProspect events for prospects in a stage (workers do the work)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stage", default=Stage.NEW, help="default: new")
        parser.add_argument("--limit", type=int, default=None, help="at most N prospects")

    def handle(self, *args, stage: str, limit: int | None, **options) -> None:
        if stage not in ENRICHABLE_STAGES:
            allowed = ", ".join(sorted(ENRICHABLE_STAGES))
            raise CommandError(f"stage {stage!r} cannot be enriched; use one of: {allowed}")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be a positive number")
        prospects = Prospect.objects.filter(stage=stage).order_by("id").only("id", "stage")
        if limit:
            prospects = prospects[:limit]
        result = prospects_enqueue_enrichment(prospects=prospects.iterator(chunk_size=1000))
        self.stdout.write(
            f"Queued {len(result.queued)} prospects for enrichment ({len(result.skipped)} skipped)."
        )
