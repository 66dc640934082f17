"""`/api/v1/inboxes`: list, create, get, patch. Passwords and keys are write-only."""

from __future__ import annotations

from django.db import IntegrityError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError

from crm.inbox_services import inbox_create, inbox_update
from crm.models import Inbox
from jengu.api_common import DbId, PageQuery, keyset_page
from outreach.api.schemas import InboxIn, InboxOut, InboxPage, InboxPatch

router = Router()


def _address_taken(email: str) -> HttpError:
    return HttpError(409, f"an inbox for {email} already exists")


@router.get(
    "",
    response=InboxPage,
    summary="List inboxes with their warm-up status",
    operation_id="crm_api_inboxes_list_inboxes",
)
def list_inboxes(request: HttpRequest, page: Query[PageQuery]) -> dict:
    return keyset_page(Inbox.objects.all(), page=page)


@router.post(
    "",
    response={201: InboxOut},
    summary="Add an inbox",
    operation_id="crm_api_inboxes_create_inbox",
)
def create_inbox(request: HttpRequest, payload: InboxIn) -> Status[Inbox]:
    try:
        return Status(201, inbox_create(data=payload.model_dump()))
    except IntegrityError:
        raise _address_taken(payload.email) from None


@router.get(
    "/{inbox_id}",
    response=InboxOut,
    summary="Get an inbox",
    operation_id="crm_api_inboxes_get_inbox",
)
def get_inbox(request: HttpRequest, inbox_id: Path[DbId]) -> Inbox:
    return get_object_or_404(Inbox, pk=inbox_id)


@router.patch(
    "/{inbox_id}",
    response=InboxOut,
    summary="Change an inbox",
    operation_id="crm_api_inboxes_patch_inbox",
)
def patch_inbox(request: HttpRequest, inbox_id: Path[DbId], payload: InboxPatch) -> Inbox:
    inbox = get_object_or_404(Inbox, pk=inbox_id)
    data = payload.model_dump(exclude_unset=True)
    try:
        return inbox_update(inbox=inbox, data=data)
    except IntegrityError:
        raise _address_taken(data.get("email", "")) from None
