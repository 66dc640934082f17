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
from outreach.replies.parsing import DeliveryStatus, ParsedEmail

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
# Labels an AI verdict may give (bounces are never a model's call).
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
    return _bounce(parsed) or _auto_reply(parsed) or _human(parsed)


def _verdict(label: str, confidence: float, **details: Any) -> Verdict:
    return Verdict(label=label, confidence=confidence, method=Method.RULES, details=details)


def _is_bounce(parsed: ParsedEmail) -> bool:
    if parsed.report_type == "delivery-status":
        return not parsed.delivery_status or any(
            block.action in ("failed", "delayed", "") for block in parsed.delivery_status
        )
    if phrases.BOUNCE_SENDERS.search(parsed.from_email):
        return True
    automated = bool(parsed.headers.get("auto-submitted")) or not parsed.from_email
    return automated and bool(phrases.BOUNCE_SUBJECTS.search(parsed.subject))


def _bounce(parsed: ParsedEmail) -> Verdict | None:
    if not _is_bounce(parsed):
        return None
    failed = _first_failed(parsed.delivery_status)
    code = failed.status if failed and failed.status else _status_in_text(parsed.text)
    if code:
        hard = code.startswith("5")
        label, confidence = (Label.BOUNCE_HARD if hard else Label.BOUNCE_SOFT), 0.99
    elif phrases.HARD_BOUNCE_TEXT.search(parsed.text):
        label, confidence = Label.BOUNCE_HARD, 0.8
    else:
        label, confidence = Label.BOUNCE_SOFT, 0.6
    return _verdict(
        label,
        confidence,
        rule="bounce",
        status=code,
        recipient=failed.recipient if failed else "",
        diagnostic=(failed.diagnostic if failed else "")[:500],
    )


def _first_failed(blocks: list[DeliveryStatus]) -> DeliveryStatus | None:
    for block in blocks:
        if block.action == "failed":
            return block
    return blocks[0] if blocks else None


def _status_in_text(text: str) -> str:
    """An enhanced status code (5.1.1) in a bounce text, else the class of an SMTP reply."""
    enhanced = phrases.ENHANCED_STATUS.search(text)
    if enhanced and enhanced.group(1) in "45":
        return enhanced.group(0)
    smtp = phrases.SMTP_REPLY.search(text)
    return f"{smtp.group(1)}.0.0" if smtp else ""


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
