"""Request and response bodies of the CRM API. Field names are a public contract."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator

from crm.models import Campaign, EmailStatus, Stage
from jengu.api_common import DbId, InSchema, patch_schema


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _known_timezone(value: str) -> str:
    if value and value not in _timezones():
        raise ValueError("unknown timezone (use an IANA name such as Europe/Paris)")
    return value


def _iso_8601(value: Any) -> Any:
    # pydantic also reads bare numbers as Unix times; the contract says ISO 8601.
    if not (isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value)):
        raise ValueError("use an ISO 8601 date-time, e.g. 2026-01-31T09:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    # PostgreSQL takes offsets up to ±15:59 only; ISO 8601 allows more (+17:08).
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time out of range") from None


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_in_utc)]


def text(max_length: int, description: str = "") -> Any:
    return Annotated[str, Field(max_length=max_length, description=description)]


Tag = Annotated[str, Field(min_length=1, max_length=64)]
Country = Annotated[
    str, Field(pattern=r"^([A-Za-z]{2})?$", description="ISO 3166 alpha-2, e.g. PT")
]
TimeZone = Annotated[
    str,
    Field(max_length=64, description="IANA, e.g. Europe/Lisbon"),
    AfterValidator(_known_timezone),
]
Hour = Annotated[int, Field(ge=0, le=24)]
Weekday = Annotated[int, Field(ge=0, le=6, description="0=Mon … 6=Sun")]


# --- prospects ----------------------------------------------------------------------


class ProspectIn(InSchema):
    business_name: Annotated[str, Field(min_length=1, max_length=255)]
    contact_name: text(255) = ""
    email: text(254, "Stored lower-case; unique.") = ""
    website: text(500) = ""
    phone: text(64) = ""
    city: text(128) = ""
    country: Country = ""
    timezone: TimeZone = ""
    industry: text(128) = ""
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    notes: text(10_000) = ""
    source: text(64, "Where the lead came from; default `api`.") = ""
    email_status: EmailStatus = Field(
        EmailStatus.UNKNOWN, description="Set for pre-verified lists."
    )


class ProspectPatchBase(ProspectIn):
    stage: Stage = Field(None, description="Moves through the funnel; refused moves get 409.")


ProspectPatch = patch_schema(ProspectPatchBase, "ProspectPatch")


class ProspectOut(Schema):
    id: int
    business_name: str
    contact_name: str
    email: str
    website: str
    domain: str
    phone: str
    city: str
    country: str
    timezone: str
    industry: str
    tags: list[str]
    notes: str
    source: str
    stage: str
    email_status: str
    score: int
    created_at: datetime
    updated_at: datetime


class ProspectFilters(InSchema):
    stage: Stage | None = None
    email_status: EmailStatus | None = None
    campaign: DbId | None = Field(None, description="Only prospects enrolled in this campaign.")
    country: Country | None = None
    tag: Tag | None = None
    updated_since: IsoDateTime | None = Field(None, description="ISO 8601 with timezone.")
    search: str | None = Field(
        None, max_length=100, description="Part of the business name, or an exact e-mail."
    )


class ProspectPage(Schema):
    items: list[ProspectOut]
    next_cursor: int | None


class BulkIn(InSchema):
    prospects: list[dict[str, Any]] = Field(
        ...,
        min_length=1,
        max_length=1000,
        description="Up to 1,000 objects with the fields of a prospect. Matched by e-mail, "
        "else business_name + city; blank values never erase stored ones.",
    )
    source: text(64) = "api"


class BulkRowOut(Schema):
    index: int
    status: str = Field(..., description="created | updated | unchanged | error")
    id: int | None
    reason: str


class BulkOut(Schema):
    created: int
    updated: int
    unchanged: int
    errors: int
    results: list[BulkRowOut]


class EnqueuedOut(Schema):
    id: int
    enqueued: bool
    reason: str = Field(..., description="Why it was not enqueued (e.g. its stage).")
    stage: str


# --- campaigns ----------------------------------------------------------------------


class StepIn(InSchema):
    order: int | None = Field(None, ge=1, le=100, description="Default: position in the list.")
    delay_days: int = Field(0, ge=0, le=365)
    subject_template: Annotated[str, Field(min_length=1, max_length=500)]
    body_template: Annotated[str, Field(min_length=1, max_length=50_000)]
    strategy: text(64) = ""


class StepOut(Schema):
    order: int
    delay_days: int
    subject_template: str
    body_template: str
    strategy: str


class CampaignIn(InSchema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    status: Campaign.Status = Campaign.Status.DRAFT
    strategy: text(64) = "cold_direct"
    inbox_ids: list[DbId] = Field(default_factory=list, max_length=100)
    window_start_hour: Hour = 9
    window_end_hour: Hour = 17
    window_days: list[Weekday] = Field(default_factory=lambda: [0, 1, 2, 3, 4], max_length=7)
    skip_holidays: bool = True
    require_approval: bool = False
    approve_follow_ups: bool = False
    sender_postal_address: text(300) = ""
    steps: list[StepIn] = Field(default_factory=list, max_length=20)


CampaignPatch = patch_schema(CampaignIn, "CampaignPatch")


class CampaignOut(Schema):
    id: int
    name: str
    status: str
    strategy: str
    inbox_ids: list[int]
    window_start_hour: int
    window_end_hour: int
    window_days: list[int]
    skip_holidays: bool
    require_approval: bool
    approve_follow_ups: bool
    sender_postal_address: str
    steps: list[StepOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_inbox_ids(obj: Campaign) -> list[int]:
        return [inbox.pk for inbox in obj.inboxes.all()]

    @staticmethod
    def resolve_steps(obj: Campaign) -> list[Any]:
        return list(obj.steps.all())


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: int | None


class EnrollIn(InSchema):
    prospect_ids: list[DbId] = Field(..., min_length=1, max_length=1000)


class EnrollRowOut(Schema):
    prospect_id: int
    status: str = Field(..., description="enrolled | already_enrolled | not_found | not_eligible")
    reason: str


class EnrollOut(Schema):
    enrolled: int
    results: list[EnrollRowOut]
