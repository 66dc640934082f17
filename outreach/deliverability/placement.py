"""Placement tests: a test e-mail from each inbox to each seed mailbox, then where it landed.

The seeds are mailboxes of ours at the big providers. Each test e-mail carries a
token in `X-Jengu-Placement` (and its subject); reading a seed over IMAP, Jengu
looks for the token in the inbox folders, then in the spam folders. Found in
neither by PLACEMENT_MISSING_AFTER_HOURS, it is "missing" (dropped, or held so
long it no longer matters). A test e-mail takes a slot of the inbox's daily cap
like any other e-mail.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import secrets
from datetime import timedelta
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.utils import timezone

from crm.models import Inbox
from jengu.bus import emit_many
from outreach.deliverability_models import PlacementTest, SeedMailbox
from outreach.replies.imap import imap_connect
from outreach.sending import transport
from outreach.sending.message import message_id_make
from outreach.sending.warmup import send_day, warmup_release, warmup_reserve

logger = logging.getLogger(__name__)
HEADER = "X-Jengu-Placement"
Status = PlacementTest.Status
DEFAULT_SPAM_FOLDERS = ("Junk", "Spam", "[Gmail]/Spam", "Junk Email", "Bulk", "Bulk Mail")


def testable_inboxes() -> list[Inbox]:
    """Active inboxes that may send at all (a paused inbox is not tested)."""
    return list(
        Inbox.objects.filter(active=True, paused_reason="")
        .select_related("deliverability")
        .order_by("pk")
    )


def placement_round(*, inboxes: list[Inbox] | None = None) -> list[PlacementTest]:
    """One test per (inbox, active seed), each sent by its own SendPlacementTest event."""
    seeds = list(SeedMailbox.objects.filter(active=True))
    created = [
        PlacementTest.objects.create(inbox=inbox, seed=seed, token=secrets.token_hex(10))
        for inbox in (testable_inboxes() if inboxes is None else inboxes)
        for seed in seeds
    ]
    emit_many("SendPlacementTest", [{"test_id": test.pk} for test in created])
    return created


def _email(test: PlacementTest, inbox: Inbox, message_id: str) -> EmailMultiAlternatives:
    short = test.token[:8]
    body = (
        "Hello,\n\nThis is a routine delivery check from our mail system; "
        f"no reply is needed.\n\nReference {short}\n"
    )
    return EmailMultiAlternatives(
        subject=f"Delivery check {short}",
        body=body,
        from_email=formataddr((inbox.display_name, inbox.email)),
        to=[test.seed.email],
        headers={"Message-ID": message_id, HEADER: test.token},
    )


def placement_send(*, test: PlacementTest) -> PlacementTest:
    """Send one test e-mail (once); a failure is recorded, never retried blindly."""
    if test.message_id or test.status != Status.SENT:
        return test
    inbox = Inbox.objects.select_related("deliverability").get(pk=test.inbox_id)
    day = send_day()
    if not warmup_reserve(inbox=inbox, day=day):
        return _failed(test, "the inbox is at its daily cap")
    message_id = message_id_make(inbox=inbox)
    PlacementTest.objects.filter(pk=test.pk).update(message_id=message_id)
    test.message_id = message_id
    outcome = transport.transport_send(
        inbox=inbox, email=_email(test, inbox, message_id), before_data=lambda: None
    )
    if outcome.outcome == transport.ACCEPTED:
        PlacementTest.objects.filter(pk=test.pk).update(sent_at=timezone.now())
        return test
    if outcome.outcome not in (transport.UNCERTAIN,):
        warmup_release(inbox=inbox, day=day)
    return _failed(test, outcome.detail)


def _failed(test: PlacementTest, reason: str) -> PlacementTest:
    test.status, test.error, test.checked_at = Status.FAILED, reason[:500], timezone.now()
    test.save(update_fields=["status", "error", "checked_at"])
    return test


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _folder_has(client: imaplib.IMAP4, folder: str, token: str) -> bool | None:
    """True/False, or None when the folder does not exist on this server."""
    status, _ = client.select(_quoted(folder), readonly=True)
    if status != "OK":
        return None
    status, data = client.search(None, "HEADER", HEADER, _quoted(token))
    return status == "OK" and bool(data and data[0].split())


def _locate(client: imaplib.IMAP4, seed: SeedMailbox, token: str) -> tuple[str, str]:
    """(status, folder) of the token's e-mail, or ("", "") when it is in neither."""
    for status, folders in (
        (Status.INBOX, seed.inbox_folders or ["INBOX"]),
        (Status.SPAM, seed.spam_folders or list(DEFAULT_SPAM_FOLDERS)),
    ):
        for folder in folders:
            if _folder_has(client, folder, token):
                return status, folder
    return "", ""


def seed_check(*, seed: SeedMailbox) -> dict[str, int]:
    """Read the seed's folders for its pending tests; how many landed where."""
    now = timezone.now()
    due = now - timedelta(minutes=settings.PLACEMENT_CHECK_AFTER_MINUTES)
    pending = list(PlacementTest.objects.filter(seed=seed, status=Status.SENT, sent_at__lte=due))
    counts = {"inbox": 0, "spam": 0, "missing": 0, "pending": 0}
    if not pending:
        return counts
    try:
        client = imap_connect(seed, timeout=settings.IMAP_TIMEOUT_SECONDS)
    except (imaplib.IMAP4.error, OSError) as exc:
        _seed_error(seed, f"{type(exc).__name__}: {exc}")
        return counts
    try:
        for test in pending:
            counts[_settle(client, seed, test, now)] += 1
    except (imaplib.IMAP4.error, OSError) as exc:
        _seed_error(seed, f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    SeedMailbox.objects.filter(pk=seed.pk).update(last_checked_at=now, last_error="")
    return counts


def _settle(client: imaplib.IMAP4, seed: SeedMailbox, test: PlacementTest, now) -> str:
    status, folder = _locate(client, seed, test.token)
    if not status:
        missing_after = timedelta(hours=settings.PLACEMENT_MISSING_AFTER_HOURS)
        if test.sent_at > now - missing_after:
            return "pending"
        status = Status.MISSING
    PlacementTest.objects.filter(pk=test.pk, status=Status.SENT).update(
        status=status, folder=folder, checked_at=now
    )
    return str(status)


def _seed_error(seed: SeedMailbox, error: str) -> None:
    # imaplib's errors carry the server's words, never the password.
    logger.warning("placement: reading seed %s failed: %s", seed.email, error)
    SeedMailbox.objects.filter(pk=seed.pk).update(last_error=error[:500])


def seeds_with_pending_tests() -> list[SeedMailbox]:
    pending = Q(tests__status=Status.SENT)
    return list(SeedMailbox.objects.filter(pending, active=True).distinct())
