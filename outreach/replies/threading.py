"""Find which of our outbound messages (and which prospect) an inbound message belongs to.

Order: the thread headers (In-Reply-To, References, and the original a bounce
embeds), then the sender's address (for a bounce: the failed recipient). A message
that is our own outbound mail — a Sent-folder copy, a BCC to ourselves, our own
message quoted back in a thread — is recognised and never taken for a reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.models import Inbox, Prospect
from outreach.models import EmailMessage
from outreach.replies.parsing import ParsedEmail


@dataclass(frozen=True)
class ThreadMatch:
    outbound: EmailMessage | None
    prospect: Prospect | None
    method: str  # "header" | "sender" | "none" | "own"

    @property
    def own(self) -> bool:
        return self.method == "own"


UNMATCHED = ThreadMatch(outbound=None, prospect=None, method="none")


def is_own_message(*, parsed: ParsedEmail, folder: str = "", inbox: Inbox | None = None) -> bool:
    """True for mail we sent: from a Sent folder, carrying our Message-ID, or from our inbox."""
    if inbox is not None and folder and folder == inbox.imap_sent_folder:
        return True
    if (
        parsed.message_id
        and EmailMessage.objects.filter(
            direction=EmailMessage.Direction.OUTBOUND, message_id=parsed.message_id
        ).exists()
    ):
        return True
    sender = parsed.from_email
    return bool(sender) and Inbox.objects.filter(email__iexact=sender).exists()


def thread_match(
    *, parsed: ParsedEmail, bounce_recipient: str = "", folder: str = "", inbox: Inbox | None = None
) -> ThreadMatch:
    """The outbound message and prospect this message answers; UNMATCHED when unknown."""
    if is_own_message(parsed=parsed, folder=folder, inbox=inbox):
        return ThreadMatch(outbound=None, prospect=None, method="own")
    outbound = _by_headers(parsed.thread_ids)
    if outbound is not None:
        return ThreadMatch(outbound=outbound, prospect=outbound.prospect, method="header")
    return _by_sender(bounce_recipient or parsed.from_email)


def _by_headers(message_ids: list[str]) -> EmailMessage | None:
    if not message_ids:
        return None
    found = {
        message.message_id: message
        for message in EmailMessage.objects.select_related("prospect").filter(
            direction=EmailMessage.Direction.OUTBOUND, message_id__in=message_ids
        )
    }
    # Most specific first: In-Reply-To, then the newest References entry.
    return next((found[mid] for mid in message_ids if mid in found), None)


def _by_sender(address: str) -> ThreadMatch:
    # Prospect addresses are stored lower-case (and indexed that way).
    prospect = Prospect.objects.filter(email=address.strip().lower()).first() if address else None
    if prospect is None:
        return UNMATCHED
    outbound = (
        prospect.messages.filter(direction=EmailMessage.Direction.OUTBOUND)
        .order_by("-created_at", "-id")
        .first()
    )
    return ThreadMatch(outbound=outbound, prospect=prospect, method="sender")
