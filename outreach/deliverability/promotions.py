"""The promoted variant of a step, read by compose (kept apart from ab.py, which
imports compose's variant list)."""

from __future__ import annotations

from .models import VariantPromotion


def promoted_variant_name(*, step_id: int) -> str:
    """The promoted variant of a step ('' when none): compose gives it to new enrollments."""
    found = VariantPromotion.objects.filter(step_id=step_id, reverted_at__isnull=True)
    return found.values_list("variant", flat=True).first() or ""
