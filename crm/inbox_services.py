"""Create and change sending inboxes (API and scripts). Secrets are write-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from crm.errors import InvalidInput
from crm.models import Inbox
from jengu.dns import get_resolver
from jengu.netguard import AddressPolicy, BlockedAddress, host_refuse_private
from jengu.regions import region_validate

INBOX_FIELDS = (
    "email",
    "display_name",
    "transport",
    "smtp_host",
    "smtp_port",
    "smtp_username",
    "smtp_password",
    "smtp_security",
    "resend_api_key",
    "imap_host",
    "imap_port",
    "imap_username",
    "imap_password",
    "imap_security",
    "daily_limit",
    "warmup_enabled",
    "warmup_start",
    "min_gap_seconds",
    "active",
    "region",
)


def _check_transport(inbox: Inbox) -> None:
    if inbox.transport == Inbox.Transport.SMTP and not inbox.smtp_host:
        raise InvalidInput("smtp_host", "an SMTP inbox needs smtp_host")
    if inbox.transport == Inbox.Transport.RESEND and not inbox.resend_api_key:
        raise InvalidInput("resend_api_key", "a Resend inbox needs resend_api_key")


def _check_region(value: str) -> None:
    try:
        region_validate(value)
    except ValidationError as exc:
        raise InvalidInput("region", exc.messages[0]) from None


MAIL_HOST_FIELDS = ("smtp_host", "imap_host")


def mail_host_policy() -> AddressPolicy:
    """Which addresses inbox mail servers may have: public ones, plus the networks of
    self-hosted mail servers (MAIL_HOSTS_ALLOW_PRIVATE / MAIL_HOSTS_ALLOWED_NETWORKS)."""
    return AddressPolicy.build(
        allow_private=settings.MAIL_HOSTS_ALLOW_PRIVATE,
        allowed_networks=settings.MAIL_HOSTS_ALLOWED_NETWORKS,
    )


def mail_host_check(*, field: str, host: str) -> None:
    """Refuse a mail host on a loopback, private or link-local address (InvalidInput).

    Typed in by a user, it would make workers connect inside our network. Checked when
    the host is saved, for a clear error; `outreach.mail_servers` checks again at every
    connection, since a name can be pointed elsewhere after it was saved.
    """
    try:
        host_refuse_private(host, resolver=get_resolver(), policy=mail_host_policy())
    except BlockedAddress as exc:
        raise InvalidInput(
            field,
            f"{exc.detail}; mail servers on private networks need MAIL_HOSTS_ALLOWED_NETWORKS",
        ) from None


@transaction.atomic
def inbox_update(*, inbox: Inbox, data: Mapping[str, Any]) -> Inbox:
    """Apply the given fields (e-mail stored lower-case); a blank secret is kept as is."""
    for name in INBOX_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in ("smtp_password", "resend_api_key", "imap_password") and not value:
            continue  # clients echo back a form without the secret: never wipe it
        if name in MAIL_HOST_FIELDS and value and value != getattr(inbox, name):
            mail_host_check(field=name, host=value)
        if name == "region":
            _check_region(value)
        setattr(inbox, name, value.strip().lower() if name == "email" else value)
    _check_transport(inbox)
    inbox.save()
    return inbox


def inbox_create(*, data: Mapping[str, Any]) -> Inbox:
    return inbox_update(inbox=Inbox(), data=data)


def inbox_pause(*, inbox: Inbox, reason: str) -> bool:
    """Stop every send from `inbox` (first touches and follow-ups) until an operator resumes.

    Returns False when it was already paused for a reason (the first reason is kept).
    """
    return bool(
        Inbox.objects.filter(pk=inbox.pk, paused_reason="").update(
            paused_reason=reason[:500] or "paused", sending_paused=True
        )
    )


def inbox_resume(*, inbox: Inbox) -> bool:
    """Undo both pauses (bounce protection and inbox pause); False if it was not paused."""
    return bool(
        Inbox.objects.filter(Q(paused_reason__gt="") | Q(sending_paused=True), pk=inbox.pk).update(
            paused_reason="", sending_paused=False
        )
    )
