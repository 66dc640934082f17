"""Label a parsed inbound message: rules first, AI for human replies, rules when AI is out.

Bounces and auto-replies are decided by headers and DSN fields, which rules read
better than any model. Human replies get a phrase-based verdict; when an AI
provider answers, its label replaces the phrase guess (except for an unsubscribe
found by rules: stopping someone who asked to stop is never second-guessed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from outreach.models import InboundEmail
from outreach.replies import phrases
from outreach.replies.dates import return_date
from outreach.replies.dsn import DeliveryStatus
from outreach.replies.parsing import ParsedEmail
from outreach.sending.reasons import bounce_reason

Label = InboundEmail.Label
Method = InboundEmail.Method

HUMAN_LABELS = frozenset(
    {
        Label.UNSUBSCRIBE,
        Label.INTERESTED,
        Label.MEETING,
        Label.NOT_INTERESTED,
        Label.QUESTION,
        Label.OTHER,
    }
)
# Labels an AI verdict may give (bounces and complaints are never a model's call).
AI_LABELS = HUMAN_LABELS | {Label.AUTO_REPLY}
_AUTO_SUBMITTED_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponse")
_SUBJECT_PREFIX = ("re:", "aw:", "sv:", "antw:", "ref:", "rif:", "fwd:", "fw:", "wg:", "tr:")


@dataclass(frozen=True)
class Verdict:
    label: str
    confidence: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_human(self) -> bool:
        return self.label in HUMAN_LABELS


def classify_rules(parsed: ParsedEmail) -> Verdict:
    """The rules-only verdict; never fails and never calls out."""
    return (
        _complaint(parsed)
        or _bounce(parsed)
        or _delivery_report(parsed)
        or _one_click_opt_out(parsed)
        or _auto_reply(parsed)
        or _human(parsed)
    )


def _verdict(label: str, confidence: float, **details: Any) -> Verdict:
    return Verdict(label=label, confidence=confidence, method=Method.RULES, details=details)


def _complaint(parsed: ParsedEmail) -> Verdict | None:
    feedback = parsed.report.feedback
    if feedback is None:
        return None
    return _verdict(
        Label.COMPLAINT,
        0.99,
        rule="feedback report",
        feedback_type=feedback.feedback_type,
        recipients=feedback.recipients,
        recipient=feedback.recipients[0] if feedback.recipients else "",
    )


def _bounce(parsed: ParsedEmail) -> Verdict | None:
    if parsed.report.kind != "bounce":
        return None
    failed = _first_failed(parsed.report.deliveries)
    reason = bounce_reason(
        status=failed.status if failed else "",
        diagnostic=failed.diagnostic if failed else "",
        context=parsed.report.prose,
        delayed=bool(failed and failed.action == "delayed"),
    )
    return _verdict(
        Label.BOUNCE_HARD if reason.hard else Label.BOUNCE_SOFT,
        0.99 if failed and (failed.status or failed.reply_code) else 0.8,
        rule="bounce",
        reason=reason.name,
        party=reason.party.value,
        status=failed.status if failed else "",
        reply_code=failed.reply_code if failed else "",
        recipient=failed.recipient if failed else "",
        original_recipient=failed.original_recipient if failed else "",
        diagnostic=(failed.diagnostic if failed else "")[:500],
    )


def _first_failed(blocks: list[DeliveryStatus]) -> DeliveryStatus | None:
    failed = [block for block in blocks if block.failed]
    permanent = [block for block in failed if block.action != "delayed"]
    return (permanent or failed or blocks or [None])[0]


def _delivery_report(parsed: ParsedEmail) -> Verdict | None:
    """A DSN saying our message *was* delivered (or relayed): machine mail, no effect."""
    if parsed.report.kind != "delivery":
        return None
    return _verdict(Label.AUTO_REPLY, 0.98, rule="delivery report", out_of_office=False)


def _one_click_opt_out(parsed: ParsedEmail) -> Verdict | None:
    """A mail client's unsubscribe through our List-Unsubscribe mailto (machine-sent)."""
    apple = parsed.headers.get("x-apple-unsubscribe", "").strip().lower() == "true"
    if apple or _bare_subject(parsed.subject) == "unsubscribe":
        return _verdict(Label.UNSUBSCRIBE, 0.95, rule="list-unsubscribe mailto")
    return None


def _auto_submitted(parsed: ParsedEmail) -> str:
    """Which header marks the message as machine-sent, or ''."""
    value = parsed.headers.get("auto-submitted", "").strip().lower()
    if value and value != "no":
        return "auto-submitted"
    for name in _AUTO_SUBMITTED_HEADERS:
        if parsed.headers.get(name):
            return name
    if parsed.headers.get("precedence", "").strip().lower() == "auto_reply":
        return "precedence"
    return ""


def _auto_reply(parsed: ParsedEmail) -> Verdict | None:
    header = _auto_submitted(parsed)
    subject = phrases.AUTO_REPLY_SUBJECTS.search(parsed.subject)
    away = phrases.OUT_OF_OFFICE.search(parsed.reply_text) or phrases.OUT_OF_OFFICE.search(
        parsed.subject
    )
    if not (header or subject or away):
        return None
    back = return_date(parsed.reply_text, sent=parsed.date) if away else None
    # Only a header or the subject proves a machine wrote it; a phrase alone may be a
    # person saying they are travelling, so it is a weaker verdict AI may overrule.
    confidence = 0.98 if header or subject else 0.6
    return _verdict(
        Label.AUTO_REPLY,
        confidence,
        rule=header or ("subject" if subject else "phrase"),
        out_of_office=bool(away),
        return_date=back.isoformat() if back else "",
    )


def _bare_subject(subject: str) -> str:
    bare = subject.strip().lower()
    while bare.startswith(_SUBJECT_PREFIX):
        bare = bare.split(":", 1)[1].strip()
    return bare


def _human(parsed: ParsedEmail) -> Verdict:
    text = parsed.reply_text
    subject = _bare_subject(parsed.subject)
    if phrases.UNSUBSCRIBE.search(text) or phrases.UNSUBSCRIBE.search(subject):
        return _verdict(Label.UNSUBSCRIBE, 0.9, rule="unsubscribe phrase")
    checks = (
        (Label.NOT_INTERESTED, phrases.NOT_INTERESTED, 0.8),
        (Label.MEETING, phrases.MEETING, 0.75),
        (Label.INTERESTED, phrases.INTERESTED, 0.75),
        (Label.QUESTION, phrases.QUESTION, 0.6),
    )
    for label, pattern, confidence in checks:
        if pattern.search(text):
            return _verdict(label, confidence, rule=f"{label} phrase")
    return _verdict(Label.OTHER, 0.3, rule="no phrase matched")
