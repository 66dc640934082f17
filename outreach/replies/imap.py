"""Polling inboxes over IMAP (stdlib imaplib), fetching only messages not seen before.

The last UID per inbox and folder lives in `ImapCursor` (PostgreSQL is the truth).
A UIDVALIDITY change means the server renumbered the folder: the cursor restarts
and Message-ID deduplication in `inbound_store` keeps old messages from doubling.
Messages are fetched with BODY.PEEK so polling never marks anything read.
"""

from __future__ import annotations

import imaplib
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from crm.models import Inbox
from jengu.redis_helpers import NamedLock
from outreach.mail_servers import imap_open
from outreach.models import ImapCursor, InboundEmail
from outreach.replies.services import inbound_store

logger = logging.getLogger(__name__)

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


@dataclass
class PollResult:
    inbox_id: int
    folder: str
    fetched: int = 0
    stored: list[int] = field(default_factory=list)
    error: str = ""
    skipped: str = ""


def imap_connect(inbox: Inbox, *, timeout: float) -> imaplib.IMAP4:
    """An authenticated connection to the inbox's IMAP server."""
    client = imap_open(inbox, timeout=timeout)
    client.login(inbox.imap_username or inbox.email, inbox.imap_password)
    return client


def pollable_inboxes() -> list[Inbox]:
    return list(Inbox.objects.filter(active=True).exclude(imap_host="").order_by("pk"))


def inbox_poll(*, inbox: Inbox, folder: str = "") -> PollResult:
    """Fetch and store every new message of one folder; one poller per inbox at a time."""
    folder = folder or inbox.imap_folder
    result = PollResult(inbox_id=inbox.pk, folder=folder)
    lock = NamedLock(f"imap-poll:{inbox.pk}:{folder}", ttl=settings.IMAP_TIMEOUT_SECONDS * 4)
    if not lock.try_acquire():
        result.skipped = "another poll of this folder is running"
        return result
    cursor, _ = ImapCursor.objects.get_or_create(inbox=inbox, folder=folder)
    try:
        _poll(inbox, cursor, result, lock)
    except (imaplib.IMAP4.error, OSError) as exc:
        # Never the password: imaplib errors carry the server's words only.
        result.error = f"{type(exc).__name__}: {exc}"[:500]
        logger.warning("IMAP poll of inbox %s %s failed: %s", inbox.pk, folder, result.error)
    finally:
        lock.release()
    cursor.polled_at, cursor.last_error = timezone.now(), result.error
    cursor.save(update_fields=["polled_at", "last_error"])
    return result


def _poll(inbox: Inbox, cursor: ImapCursor, result: PollResult, lock: NamedLock) -> None:
    client = imap_connect(inbox, timeout=settings.IMAP_TIMEOUT_SECONDS)
    try:
        uidvalidity = _select(client, cursor.folder)
        if uidvalidity != cursor.uidvalidity:
            cursor.uidvalidity, cursor.last_uid = uidvalidity, 0
            cursor.save(update_fields=["uidvalidity", "last_uid"])
        for uid in _new_uids(client, cursor.last_uid)[: settings.IMAP_FETCH_LIMIT]:
            raw = _fetch(client, uid)
            result.fetched += 1
            if raw is not None:
                inbound = inbound_store(
                    raw=raw,
                    source=InboundEmail.Source.IMAP,
                    provider_message_id=f"imap:{inbox.pk}:{cursor.folder}:{uidvalidity}:{uid}",
                    inbox=inbox,
                    folder=cursor.folder,
                )
                result.stored.append(inbound.pk)
            # Saved per message, so a crash mid-batch resumes after the last stored one.
            cursor.last_uid = uid
            cursor.save(update_fields=["last_uid"])
            lock.extend()
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            logger.debug("IMAP logout failed; the connection is dropped anyway")


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _select(client: imaplib.IMAP4, folder: str) -> int:
    status, data = client.select(_quoted(folder), readonly=True)
    if status != "OK":
        raise imaplib.IMAP4.error(f"cannot open folder {folder!r}: {data!r}")
    _, values = client.response("UIDVALIDITY")
    if values and values[0]:
        return int(values[0])
    found = _UIDVALIDITY.search(b" ".join(v for v in data if isinstance(v, bytes)))
    return int(found.group(1)) if found else 0


def _new_uids(client: imaplib.IMAP4, last_uid: int) -> list[int]:
    status, data = client.uid("SEARCH", None, f"UID {last_uid + 1}:*")
    if status != "OK":
        raise imaplib.IMAP4.error(f"UID SEARCH failed: {data!r}")
    # "n:*" always matches the highest UID, even one below n: filter it out.
    return sorted(uid for uid in (int(x) for x in (data[0] or b"").split()) if uid > last_uid)


def _fetch(client: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if status != "OK":
        raise imaplib.IMAP4.error(f"UID FETCH {uid} failed: {data!r}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None  # expunged between SEARCH and FETCH


def inboxes_poll() -> list[PollResult]:
    """Poll every active inbox with IMAP settings; one inbox's failure never stops the rest."""
    return [inbox_poll(inbox=inbox) for inbox in pollable_inboxes()]
