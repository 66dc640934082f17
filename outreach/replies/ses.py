"""Amazon SES notifications mailed as JSON (an SNS e-mail subscription).

Read with patterns, not a JSON parser: SNS wraps the notification in an escaped
string, and mail servers wrap its long line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from outreach.replies.dsn import MAX_ADDRESSES, DeliveryStatus, FeedbackReport, reply_code

_SES_TYPE = re.compile(r'"notificationType"\s*:\s*"(Bounce|Complaint|Delivery)"')
_SES_RECIPIENT = re.compile(r'\{\s*"emailAddress"\s*:\s*"([^"]{3,254})"([^{}]*)\}')
_SES_FIELD = re.compile(r'"(action|status|diagnosticCode)"\s*:\s*"([^"]{0,500})"')
_SES_MESSAGE_ID = re.compile(r'"name"\s*:\s*"Message-ID"\s*,\s*"value"\s*:\s*"(<[^"<>\s]+>)"', re.I)
_SES_FEEDBACK = re.compile(r'"complaintFeedbackType"\s*:\s*"([\w-]{1,40})"')


@dataclass(frozen=True)
class SesNotification:
    kind: str
    deliveries: list[DeliveryStatus]
    feedback: FeedbackReport | None
    message_ids: list[str]


def ses_notification(text: str) -> SesNotification | None:
    """The SES bounce, complaint or delivery notification in `text`, if any."""
    text = text.replace('\\"', '"')
    kind = _SES_TYPE.search(text)
    if kind is None:
        return None
    recipients = [
        (m.group(1).lower(), dict(_SES_FIELD.findall(m.group(2))))
        for m in _SES_RECIPIENT.finditer(text)
    ][:MAX_ADDRESSES]
    message_ids = _SES_MESSAGE_ID.findall(text)
    if kind.group(1) == "Complaint":
        feedback_type = _SES_FEEDBACK.search(text)
        feedback = FeedbackReport(
            feedback_type=feedback_type.group(1).lower() if feedback_type else "abuse",
            recipients=[address for address, _ in recipients],
            user_agent="Amazon SES",
        )
        return SesNotification("feedback", [], feedback, message_ids)
    if kind.group(1) == "Delivery":
        return SesNotification("delivery", [], None, message_ids)
    deliveries = [
        DeliveryStatus(
            recipient=address,
            action=fields.get("action", "failed").lower(),
            status=fields.get("status", ""),
            diagnostic=fields.get("diagnosticCode", ""),
            reply_code=reply_code(fields.get("diagnosticCode", "")),
        )
        for address, fields in recipients
    ]
    return SesNotification("bounce", deliveries, None, message_ids)
