"""DKIM-signing outgoing e-mail for inboxes whose relay does not sign (SMTP only:
Resend signs with the domain's own key)."""

from __future__ import annotations

import logging

import dkim

from crm.models import Inbox

from .dkim_keys import DkimKeyError, message_sign
from .presets import inbox_settings

logger = logging.getLogger(__name__)


def outgoing_sign(*, inbox: Inbox, raw: bytes) -> bytes:
    """`raw` signed with the inbox's key when it has signing on; else unchanged.

    A key that fails to sign (it was checked when saved, so this means a damaged
    key) is logged and the e-mail goes unsigned: SPF may still carry it, and a
    stuck send queue helps nobody.
    """
    row = inbox_settings(inbox)
    if not (row and row.dkim_sign and row.dkim_private_key and row.dkim_selector):
        return raw
    domain = inbox.email.rpartition("@")[2].lower()
    try:
        return message_sign(
            raw, selector=row.dkim_selector, domain=domain, private_pem=row.dkim_private_key
        )
    except (dkim.DKIMException, DkimKeyError) as exc:
        logger.error("inbox %s: DKIM signing failed, sending unsigned: %s", inbox.pk, exc)
        return raw
