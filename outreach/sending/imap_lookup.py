"""Looking for a Message-ID in an inbox's Sent folder over IMAP (settles uncertain sends)."""

from __future__ import annotations

import contextlib
import imaplib

from django.conf import settings

from crm.models import Inbox
from outreach.mail_servers import imap_open


def sent_folder_has(*, inbox: Inbox, message_id: str) -> bool:
    """True if the inbox's Sent folder holds a message with this Message-ID.

    Raises OSError (imaplib's errors included) when the server cannot answer,
    which the caller treats as "still unknown".
    """
    if not message_id:
        return False
    try:
        client = imap_open(inbox, timeout=settings.SEND_SMTP_TIMEOUT_SECONDS)
        try:
            client.login(inbox.imap_username or inbox.email, inbox.imap_password)
            status, _ = client.select(_quoted(inbox.imap_sent_folder), readonly=True)
            if status != "OK":
                raise OSError(f"cannot open folder {inbox.imap_sent_folder!r}")
            status, data = client.search(None, "HEADER", "Message-ID", _quoted(message_id))
            return status == "OK" and bool(data and data[0].split())
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):  # the answer is known
                client.logout()
    except imaplib.IMAP4.error as exc:
        raise OSError(f"IMAP error: {exc}") from exc


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
