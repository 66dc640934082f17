"""`/api/v1/metrics/summary`: the overview's numbers as JSON."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from outreach.selectors import overview_summary

router = Router()


class SummaryOut(Schema):
    prospects_total: int
    prospects_by_stage: dict[str, int]
    campaigns_by_status: dict[str, int]
    enrollments_active: int
    inboxes_active: int
    sent_today: int
    sent_7d: int
    replies_today: int
    replies_7d: int
    bounced_7d: int
    pending_approval: int


@router.get(
    "/summary",
    response=SummaryOut,
    summary="Headline numbers",
    operation_id="crm_api_metrics_summary",
)
def summary(request: HttpRequest) -> dict:
    return overview_summary()
