"""`/api/v1/messages`: e-mails out and in, filterable; one message with its thread."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema

from jengu.api_common import DbId, InSchema, PageQuery, keyset_page_json
from outreach.models import EmailMessage

messages_router = Router()
THREAD_LIMIT = 200


class MessageFilters(InSchema):
    prospect: DbId | None = None
    campaign: DbId | None = None
    direction: EmailMessage.Direction | None = None
    status: EmailMessage.Status | None = None


class MessageOut(Schema):
    id: int
    direction: str
    prospect_id: int | None
    campaign_id: int | None
    step: int | None
    variant: str
    inbox_id: int | None
    from_email: str
    to_email: str
    subject: str
    body: str
    message_id: str
    in_reply_to: str
    status: str
    error: str
    provider: str = Field(
        ..., description="Who wrote it: an AI provider (grok:1, claude, …) or template."
    )
    fallback_reason: str = Field(
        ...,
        description="Why the step template wrote it: providers_failed, deadline, no_providers "
        "or template_step; empty when an AI provider did.",
    )
    hold_reason: str = Field(
        ..., description="Why it waited for review; empty when it did not have to."
    )
    sent_at: datetime | None
    created_at: datetime


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: int | None


class MessageThreadOut(MessageOut):
    thread: list[MessageOut] = Field(
        ...,
        description="The latest 200 messages with the same prospect, oldest first (this one too).",
    )


def _filtered(filters: MessageFilters) -> QuerySet[EmailMessage]:
    lookups = {
        "prospect_id": filters.prospect,
        "campaign_id": filters.campaign,
        "direction": filters.direction,
        "status": filters.status,
    }
    return EmailMessage.objects.filter(
        **{name: value for name, value in lookups.items() if value is not None}
    )


@messages_router.get(
    "",
    response=MessagePage,
    summary="List messages, newest first",
    operation_id="outreach_api_list_messages",
)
def list_messages(
    request: HttpRequest, filters: Query[MessageFilters], page: Query[PageQuery]
) -> HttpResponse:
    return keyset_page_json(_filtered(filters), page=page, item=MessageOut)


@messages_router.get(
    "/{message_id}",
    response=MessageThreadOut,
    summary="A message and thread",
    operation_id="outreach_api_get_message",
)
def get_message(request: HttpRequest, message_id: Path[DbId]) -> EmailMessage:
    message = get_object_or_404(EmailMessage, pk=message_id)
    if message.prospect_id is None:
        message.thread = [message]
    else:
        latest = EmailMessage.objects.filter(prospect_id=message.prospect_id).order_by(
            "-created_at", "-id"
        )[:THREAD_LIMIT]
        message.thread = list(reversed(latest))
    return message
