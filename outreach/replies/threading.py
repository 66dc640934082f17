"""Which of our e-mails (and which prospect) an inbound message is about, and whether to believe it.

Anyone can send us mail that names a prospect, so a match carries a verdict,
`trusted`: only a trusted match may change a prospect, an inbox or a suppression.

- A person's reply is trusted when it answers our thread (its In-Reply-To or
  References holds the Message-ID of an e-mail we sent: only the people in that
  thread know it), or when its sender is the prospect and our receiving server
  authenticated that sender (sender_auth.py). A reply matched by its From address
  alone is kept on the prospect's page for a person to judge, and changes nothing.
- A bounce or complaint report is trusted only when it names an e-mail we sent
  (our Message-ID or reference token in the original it quotes, or the VERP token
  it was addressed to) *and* the recipient it reports on is the one we sent that
  e-mail to. Anything else is stored, unmatched, for an operator.

Our own outbound mail (a Sent-folder copy, a BCC, a message from one of our
inboxes) is recognised first and never taken for a reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.models import Inbox, Prospect
from outreach.models import EmailMessage
from outreach.replies.parsing import ParsedEmail
from outreach.replies.sender_auth import sender_auth
from outreach.sending.tokens import reference_valid, references_in


@dataclass(frozen=True)
class ThreadMatch:
    outbound: EmailMessage | None
    prospect: Prospect | None
    method: str  # "header" | "token" | "sender" | "none" | "own"
    trusted: bool = False
    why: str = ""

    @property
    def own(self) -> bool:
        return self.method == "own"


UNMATCHED = ThreadMatch(outbound=None, prospect=None, method="none", why="no e-mail of ours named")


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
    *,
    parsed: ParsedEmail,
    report_recipients: list[str] | None = None,
    folder: str = "",
    inbox: Inbox | None = None,
) -> ThreadMatch:
    """The outbound message and prospect this message is about, and whether to trust it.

    `report_recipients` is given for a bounce or complaint: the addresses the report
    says it is about (empty when it names none).
    """
    if is_own_message(parsed=parsed, folder=folder, inbox=inbox):
        return ThreadMatch(outbound=None, prospect=None, method="own", why="our own message")
    if report_recipients is not None:
        return _report_match(parsed, report_recipients)
    outbound = _by_headers(parsed.in_reply_to + list(reversed(parsed.references)))
    if outbound is not None:
        return ThreadMatch(outbound, outbound.prospect, "header", True, "answers our e-mail")
    return _by_sender(parsed)


def _by_headers(message_ids: list[str]) -> EmailMessage | None:
    message_ids = list(dict.fromkeys(message_ids))[:50]
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


def _by_sender(parsed: ParsedEmail) -> ThreadMatch:
    address = parsed.from_email
    # Prospect addresses are stored lower-case (and indexed that way).
    prospect = Prospect.objects.filter(email=address).first() if address else None
    auth = sender_auth(
        results_headers=parsed.all_headers.get("authentication-results", []), from_email=address
    )
    why = f"sender authenticated ({auth.why})" if auth.authenticated else f"From only: {auth.why}"
    if prospect is None:
        # A verified stranger may still opt their own address out.
        return ThreadMatch(None, None, "none", auth.authenticated, f"no prospect; {why}")
    outbound = (
        prospect.messages.filter(direction=EmailMessage.Direction.OUTBOUND)
        .order_by("-created_at", "-id")
        .first()
    )
    return ThreadMatch(outbound, prospect, "sender", auth.authenticated, why)


def _report_match(parsed: ParsedEmail, recipients: list[str]) -> ThreadMatch:
    """A bounce or complaint: trusted only if it names an e-mail we sent to that recipient."""
    outbound, method = _by_reference(parsed.report.reference_text), "token"
    if outbound is None:
        outbound, method = _by_headers(parsed.thread_ids), "header"
    if outbound is None:
        return UNMATCHED
    recipient = outbound.to_email.strip().lower()
    # A valid token already proves the recipient; complaint reports often redact theirs.
    redacting = method == "token" and parsed.report.kind == "feedback"
    if recipients and recipient not in recipients and not redacting:
        return ThreadMatch(
            None, None, "none", False, f"reports on {', '.join(recipients[:3])}, not our recipient"
        )
    return ThreadMatch(
        outbound, outbound.prospect, method, True, f"names our e-mail to {recipient}"
    )


def _by_reference(text: str) -> EmailMessage | None:
    """The e-mail a valid reference token names (a forged or foreign token names none)."""
    for reference in references_in(text):
        outbound = (
            EmailMessage.objects.select_related("prospect")
            .filter(pk=reference.message_pk, direction=EmailMessage.Direction.OUTBOUND)
            .first()
        )
        if outbound and reference_valid(reference=reference, recipient=outbound.to_email):
            return outbound
    return None
