"""Writes for inbound mail: store raw messages, process them, relabel them.

`inbound_store` is what every ingress calls (IMAP poll, webhooks, `ingest_eml`);
`inbound_process` is what the `InboundEmail` actor calls. Tests call both directly.
"""

from __future__ import annotations

import email
import logging
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import Inbox
from jengu.bus import emit
from outreach.models import EmailMessage, InboundEmail
from outreach.replies import limits
from outreach.replies.ai import reply_classify
from outreach.replies.classify import Verdict, classify_rules
from outreach.replies.effects import effects_apply
from outreach.replies.errors import MalformedEmailError
from outreach.replies.parsing import ParsedEmail, first_message_id, header_text, parse_email
from outreach.replies.threading import ThreadMatch, thread_match

logger = logging.getLogger(__name__)

Status = InboundEmail.Status


@dataclass(frozen=True)
class ReplyResult:
    inbound_id: int
    status: str
    label: str = ""
    confidence: float | None = None
    method: str = ""
    match: str = ""
    prospect_id: int | None = None
    effects: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, inbound: InboundEmail, effects: list[str] | None = None) -> ReplyResult:
        return cls(
            inbound_id=inbound.pk,
            status=inbound.status,
            label=inbound.label,
            confidence=inbound.confidence,
            method=inbound.method,
            match=inbound.match_method,
            prospect_id=inbound.prospect_id,
            effects=effects if effects is not None else inbound.details.get("effects", []),
        )


def _headers_of(raw: bytes) -> Message | None:
    """Just the header section, leniently and within the header cap: enough to deduplicate
    and list a message we may not be able to parse."""
    block = limits.header_block(raw.replace(b"\x00", b""))[: limits.MAX_HEADER_BLOCK_BYTES]
    try:
        return BytesHeaderParser().parsebytes(block)
    except Exception:  # noqa: BLE001 - storing must never fail on bad input
        return None


def _text(value: str, length: int) -> str:
    """A header value fit for a text column: no NUL (PostgreSQL refuses it), no line breaks."""
    return " ".join(value.replace("\x00", "").split())[:length]


def inbound_store(
    *,
    raw: bytes,
    source: str,
    provider_message_id: str | None = None,
    inbox: Inbox | None = None,
    folder: str = "",
    emit_event: bool = True,
) -> InboundEmail:
    """Keep a received message exactly as it came and queue it for processing.

    Idempotent: a message already stored (same provider id, or same Message-ID
    arriving by another route) is returned as it is and not queued again.
    """
    provider_message_id = _text(provider_message_id or "", 255) or None
    headers = _headers_of(raw)
    message_id = _text(first_message_id(header_text(headers, "Message-ID")), 255) if headers else ""
    existing = _stored(provider_message_id, message_id)
    if existing is not None:
        return existing
    fields = {
        "raw": raw,
        "source": source,
        "provider_message_id": provider_message_id,
        "message_id": message_id,
        "inbox": inbox,
        "folder": folder[:128],
        "from_email": _sender(headers),
        "subject": _text(header_text(headers, "Subject"), 998) if headers else "",
    }
    try:
        with transaction.atomic():
            inbound = InboundEmail.objects.create(**fields)
            if emit_event:
                emit("InboundEmail", {"inbound_id": inbound.pk})
    except IntegrityError:  # stored concurrently by another poller or webhook call
        return _stored(provider_message_id, message_id)
    return inbound


def _sender(headers: Message | None) -> str:
    if headers is None:
        return ""
    return _text(email.utils.parseaddr(header_text(headers, "From"))[1].lower(), 254)


def _stored(provider_message_id: str | None, message_id: str) -> InboundEmail | None:
    if provider_message_id:
        found = InboundEmail.objects.filter(provider_message_id=provider_message_id).first()
        if found is not None:
            return found
    if message_id:
        return InboundEmail.objects.filter(message_id=message_id).first()
    return None


def _manual_verdict(inbound: InboundEmail, rules: Verdict) -> Verdict:
    # The rules' facts (bounce recipient, return date) still apply to a person's label.
    return Verdict(inbound.label, 1.0, InboundEmail.Method.MANUAL, rules.details)


def inbound_mark_failed(*, inbound: InboundEmail, error: str) -> None:
    """Flag a stored message that could not be processed; its raw bytes stay for a reprocess."""
    InboundEmail.objects.filter(pk=inbound.pk).update(
        status=Status.FAILED, error=error.replace("\x00", "")[:2000], processed_at=timezone.now()
    )


def _parse_or_fail(inbound: InboundEmail) -> ParsedEmail:
    try:
        return parse_email(bytes(inbound.raw))
    except MalformedEmailError as exc:
        inbound_mark_failed(inbound=inbound, error=str(exc))
        raise


def inbound_process(*, inbound: InboundEmail, force: bool = False) -> ReplyResult:
    """Parse, thread, classify and apply the effects of one stored message.

    Processing twice is a no-op unless `force` (a reprocess after a fix), and a
    manual label survives a reprocess. Malformed input marks the row failed and
    raises MalformedEmailError (an InvalidDataError: dead letter, raw kept).
    """
    if inbound.status in (Status.PROCESSED, Status.IGNORED) and not force:
        return ReplyResult.of(inbound)
    parsed = _parse_or_fail(inbound)
    rules = classify_rules(parsed)
    match = thread_match(
        parsed=parsed,
        report_recipients=report_recipients(rules),
        folder=inbound.folder,
        inbox=inbound.inbox,
    )
    if match.own:
        return _mark_ignored(inbound)
    if inbound.method == InboundEmail.Method.MANUAL:
        verdict = _manual_verdict(inbound, rules)
    else:
        verdict = reply_classify(parsed=parsed, rules=rules, reference=f"inbound:{inbound.pk}")
    return _apply(inbound_id=inbound.pk, parsed=parsed, verdict=verdict, match=match, force=force)


def report_recipients(verdict: Verdict) -> list[str] | None:
    """The addresses a bounce or complaint reports on ([] if it names none); None otherwise."""
    if verdict.label == InboundEmail.Label.COMPLAINT:
        return list(verdict.details.get("recipients", []))
    if verdict.label in (InboundEmail.Label.BOUNCE_HARD, InboundEmail.Label.BOUNCE_SOFT):
        named = (verdict.details.get("recipient"), verdict.details.get("original_recipient"))
        return [address for address in named if address]
    return None


def _mark_ignored(inbound: InboundEmail) -> ReplyResult:
    InboundEmail.objects.filter(pk=inbound.pk).update(
        status=Status.IGNORED, match_method="own", processed_at=timezone.now(), error=""
    )
    inbound.refresh_from_db()
    return ReplyResult.of(inbound, effects=["our own message: not a reply"])


@transaction.atomic
def _apply(
    *, inbound_id: int, parsed: ParsedEmail, verdict: Verdict, match: ThreadMatch, force: bool
) -> ReplyResult:
    # The row lock makes two workers holding the same message apply its effects once.
    inbound = InboundEmail.objects.select_for_update().get(pk=inbound_id)
    if inbound.status == Status.PROCESSED and not force:
        return ReplyResult.of(inbound)
    inbound.prospect = match.prospect
    inbound.replied_to = match.outbound
    inbound.match_method = match.method
    inbound.label, inbound.confidence, inbound.method = (
        verdict.label,
        verdict.confidence,
        verdict.method,
    )
    inbound.email_message = _thread_message(inbound, parsed, match)
    effects = effects_apply(inbound=inbound, verdict=verdict, match=match)
    inbound.details = {
        **verdict.details,
        "match": {"trusted": match.trusted, "why": match.why},
        "effects": effects,
        **({"notes": parsed.notes} if parsed.notes else {}),
    }
    inbound.status, inbound.error, inbound.processed_at = Status.PROCESSED, "", timezone.now()
    inbound.save()
    logger.info(
        "inbound %s: %s (%s, %.2f), match %s",
        inbound.pk,
        verdict.label,
        verdict.method,
        verdict.confidence,
        match.method,
    )
    return ReplyResult.of(inbound, effects=effects)


def _thread_message(inbound: InboundEmail, parsed: ParsedEmail, match: ThreadMatch) -> EmailMessage:
    """The inbound message row shown in the prospect's thread (created once, then updated)."""
    outbound = match.outbound
    fields = {
        "direction": EmailMessage.Direction.INBOUND,
        "status": EmailMessage.Status.RECEIVED,
        "prospect": match.prospect,
        "enrollment": outbound.enrollment if outbound else None,
        "campaign": outbound.campaign if outbound else None,
        "step": outbound.step if outbound else None,
        "variant": outbound.variant if outbound else "",
        "inbox": (outbound.inbox if outbound else None) or inbound.inbox,
        "from_email": parsed.from_email[:254],
        "to_email": (parsed.to[0] if parsed.to else "")[:254],
        "subject": parsed.subject,
        "body": parsed.text,
        "in_reply_to": (outbound.message_id if outbound else "")
        or (parsed.in_reply_to[0] if parsed.in_reply_to else "")[:255],
        "sent_at": parsed.date or inbound.received_at,
    }
    row = inbound.email_message
    if row is None and parsed.message_id:
        row = EmailMessage.objects.filter(
            direction=EmailMessage.Direction.INBOUND, message_id=parsed.message_id
        ).first()
    if row is None:
        return EmailMessage.objects.create(message_id=parsed.message_id, **fields)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def inbound_relabel(*, inbound: InboundEmail, label: str, corrected_by: str) -> ReplyResult:
    """A person's label replaces the classifier's and its effects are applied.

    Effects of the earlier label are not undone (a suppression stays until a person
    removes it in admin): undoing a stop automatically is the riskier mistake.
    """
    if label not in InboundEmail.Label.values:
        raise ValueError(f"unknown label {label!r}")
    InboundEmail.objects.filter(pk=inbound.pk).update(
        label=label,
        method=InboundEmail.Method.MANUAL,
        confidence=1.0,
        label_corrected_by=corrected_by[:128],
        label_corrected_at=timezone.now(),
    )
    inbound.refresh_from_db()
    return inbound_process(inbound=inbound, force=True)


def inbound_mark_handled(*, inbound_ids: list[int]) -> int:
    """A person dealt with these replies: they leave the "needs a human" list."""
    return InboundEmail.objects.filter(pk__in=inbound_ids, needs_human=True).update(
        needs_human=False
    )


def inbound_reprocess(*, inbound: InboundEmail) -> ReplyResult:
    """Run a stored message through the pipeline again (after a fix); raw bytes suffice."""
    return inbound_process(inbound=inbound, force=True)
