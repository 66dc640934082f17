"""Read-only queries over CRM records."""

from django.db.models import Count

from crm.models import Prospect, Stage


def stage_counts() -> list[tuple[str, int]]:
    """Prospects per stage, in funnel order, zeros included."""
    counts = dict(Prospect.objects.values_list("stage").annotate(n=Count("id")).order_by())
    return [(stage.label, counts.get(stage.value, 0)) for stage in Stage]
