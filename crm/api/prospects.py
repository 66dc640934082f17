"""`/api/v1/prospects`: list, create, get, patch, delete, bulk upsert, enrich."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError

from crm.api.schemas import (
    BulkIn,
    BulkOut,
    EnqueuedOut,
    ProspectFilters,
    ProspectIn,
    ProspectOut,
    ProspectPage,
    ProspectPatch,
)
from crm.models import Enrollment, Prospect
from crm.services import (
    ProspectConflict,
    prospect_create,
    prospect_update,
    prospects_bulk_upsert,
    prospects_enqueue_enrichment,
)
from jengu.api_common import DbId, PageQuery, keyset_page_json

router = Router()


def api_actor(request: HttpRequest) -> str:
    """Who to record as the author of a change made through the API."""
    return f"api:{request.auth.name}"  # type: ignore[attr-defined]


def _filtered(filters: ProspectFilters) -> QuerySet[Prospect]:
    queryset = Prospect.objects.all()
    for name in ("stage", "email_status"):
        if getattr(filters, name):
            queryset = queryset.filter(**{name: getattr(filters, name)})
    if filters.country:
        queryset = queryset.filter(country=filters.country.upper())
    if filters.tag:
        queryset = queryset.filter(tags__contains=[filters.tag])
    if filters.updated_since:
        queryset = queryset.filter(updated_at__gte=filters.updated_since)
    if filters.campaign:
        enrolled = Enrollment.objects.filter(campaign_id=filters.campaign)
        queryset = queryset.filter(pk__in=enrolled.values("prospect_id"))
    if filters.search:
        queryset = queryset.searched(filters.search.strip())
    return queryset


@router.get("", response=ProspectPage, summary="List prospects, newest first")
def list_prospects(
    request: HttpRequest, filters: Query[ProspectFilters], page: Query[PageQuery]
) -> HttpResponse:
    return keyset_page_json(_filtered(filters), page=page, item=ProspectOut)


@router.post("", response={201: ProspectOut}, summary="Create a prospect")
def create_prospect(request: HttpRequest, payload: ProspectIn) -> Status[Prospect]:
    try:
        return Status(201, prospect_create(data=payload.model_dump(), source="api"))
    except ProspectConflict as exc:
        raise HttpError(409, str(exc)) from None


@router.post("/bulk", response=BulkOut, summary="Create or update up to 1,000 prospects")
def bulk_upsert(request: HttpRequest, payload: BulkIn) -> dict:
    results = prospects_bulk_upsert(rows=payload.prospects, source=payload.source or "api")
    counts = {status: 0 for status in ("created", "updated", "unchanged", "error")}
    for result in results:
        counts[result.status] += 1
    return {
        "created": counts["created"],
        "updated": counts["updated"],
        "unchanged": counts["unchanged"],
        "errors": counts["error"],
        "results": results,
    }


@router.get("/{prospect_id}", response=ProspectOut, summary="Get a prospect")
def get_prospect(request: HttpRequest, prospect_id: Path[DbId]) -> Prospect:
    return get_object_or_404(Prospect, pk=prospect_id)


@router.patch("/{prospect_id}", response=ProspectOut, summary="Change a prospect")
def patch_prospect(
    request: HttpRequest, prospect_id: Path[DbId], payload: ProspectPatch
) -> Prospect:
    prospect = get_object_or_404(Prospect, pk=prospect_id)
    data = payload.model_dump(exclude_unset=True)
    try:
        return prospect_update(prospect=prospect, data=data, changed_by=api_actor(request))
    except ProspectConflict as exc:
        raise HttpError(409, str(exc)) from None


@router.post(
    "/{prospect_id}/enrich",
    response={202: EnqueuedOut},
    summary="Find the website and e-mail in the background",
)
def enrich(request: HttpRequest, prospect_id: Path[DbId]) -> Status[dict]:
    prospect = get_object_or_404(Prospect, pk=prospect_id)
    result = prospects_enqueue_enrichment(prospects=[prospect])
    return Status(
        202,
        {
            "id": prospect.pk,
            "enqueued": prospect.pk in result.queued,
            "reason": result.skipped.get(prospect.pk, ""),
            "stage": prospect.stage,
        },
    )


@router.delete("/{prospect_id}", response={204: None}, summary="Delete a prospect")
def delete_prospect(request: HttpRequest, prospect_id: Path[DbId]) -> Status[None]:
    get_object_or_404(Prospect, pk=prospect_id).delete()
    return Status(204, None)
