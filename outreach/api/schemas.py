"""Request and response bodies of outreach's API resources. Field names are a public contract."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Schema

from crm.api.schemas import text
from crm.models import Inbox
from jengu.api_common import InSchema, patch_schema
from outreach.sending.warmup import send_day, warmup_status


class CampaignStatsOut(Schema):
    enrolled: int
    contacted: int
    replied: int
    unsubscribed: int
    active: int
    paused: int
    finished: int
    stopped: int
    sent: int
    bounced: int
    failed: int
    pending_approval: int
    queued: int
    reply_rate: float
    bounce_rate: float


class InboxIn(InSchema):
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    display_name: text(128) = ""
    transport: Inbox.Transport = Inbox.Transport.SMTP
    smtp_host: text(255) = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: text(255) = ""
    smtp_password: text(1000, "Write-only: never returned.") = ""
    smtp_security: Inbox.Security = Inbox.Security.STARTTLS
    resend_api_key: text(1000, "Write-only: never returned.") = ""
    imap_host: text(255) = ""
    imap_port: int = Field(993, ge=1, le=65535)
    imap_username: text(255) = ""
    imap_password: text(1000, "Write-only: never returned.") = ""
    imap_security: Inbox.Security = Inbox.Security.TLS
    daily_limit: int = Field(50, ge=0, le=100_000, description="Hard daily maximum.")
    warmup_enabled: bool = True
    warmup_start: date = Field(default_factory=date.today, description="Default: today.")
    min_gap_seconds: int = Field(120, ge=0, le=86_400)
    active: bool = True
    region: text(32, "Home region, one of JENGU_REGIONS; blank: the default region.") = ""


InboxPatch = patch_schema(InboxIn, "InboxPatch")


class WarmupOut(Schema):
    enabled: bool
    day: int = Field(..., description="Day of warm-up (1 = the start date).")
    cap_today: int = Field(..., description="Sends allowed today (ramp, capped by daily_limit).")
    sent_today: int
    next_free_in_seconds: float = Field(..., description="Pacing: wait before the next send.")


def inbox_warmup(inbox: Inbox) -> dict[str, Any]:
    status = warmup_status(inboxes=[inbox])[0]
    return {
        "enabled": inbox.warmup_enabled,
        "day": max((send_day() - inbox.warmup_start).days + 1, 1),
        "cap_today": status.cap,
        "sent_today": status.sent_today,
        "next_free_in_seconds": round(status.next_free_in_seconds, 1),
    }


class InboxOut(Schema):
    id: int
    email: str
    display_name: str
    transport: str
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_security: str
    imap_host: str
    imap_port: int
    imap_username: str
    imap_security: str
    daily_limit: int
    warmup_enabled: bool
    warmup_start: date
    min_gap_seconds: int
    active: bool
    region: str
    sending_paused: bool
    paused_reason: str  # set when receivers block the inbox or its authentication fails
    bounce_count: int
    last_error: str
    last_sent_at: datetime | None
    has_smtp_password: bool
    warmup: WarmupOut
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_has_smtp_password(obj: Inbox) -> bool:
        return bool(obj.smtp_password)

    @staticmethod
    def resolve_warmup(obj: Inbox) -> dict[str, Any]:
        return inbox_warmup(obj)


class InboxPage(Schema):
    items: list[InboxOut]
    next_cursor: int | None
