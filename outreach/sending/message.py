"""Building the outgoing e-mail: headers, plain text and HTML parts, the legal footer."""

from __future__ import annotations

from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape, linebreaks

from crm.models import Inbox
from outreach.models import EmailMessage
from outreach.sending.tokens import HEADER as REFERENCE_HEADER
from outreach.sending.tokens import reference_token, verp_address
from outreach.unsubscribe import unsubscribe_url


def message_id_make(*, inbox: Inbox) -> str:
    """A fresh RFC 5322 Message-ID on the inbox's own domain (replies thread on it)."""
    return make_msgid(domain=inbox.email.rpartition("@")[2])


def _footer_text(postal_address: str, unsubscribe: str) -> str:
    lines = ["", "--"]
    if postal_address:
        lines.append(postal_address)
    lines.append(f"Unsubscribe: {unsubscribe}")
    return "\n".join(lines)


def _footer_html(postal_address: str, unsubscribe: str) -> str:
    address = f"{escape(postal_address)}<br>" if postal_address else ""
    return (
        '<p style="color:#888;font-size:12px;margin-top:24px">'
        f'{address}<a href="{escape(unsubscribe)}">Unsubscribe</a></p>'
    )


def _envelope_sender(inbox: Inbox, token: str) -> str:
    """With VERP on, the SMTP envelope sender (the bounce address) carries the token."""
    if settings.BOUNCE_VERP_ENABLED and inbox.transport == Inbox.Transport.SMTP:
        return verp_address(inbox_email=inbox.email, token=token)
    return ""


def email_build(*, message: EmailMessage, inbox: Inbox, message_id: str) -> EmailMultiAlternatives:
    """The e-mail for `message` as sent from `inbox`, with RFC 8058 one-click unsubscribe."""
    campaign = message.campaign
    postal = campaign.sender_postal_address if campaign else ""
    unsubscribe = unsubscribe_url(email=message.to_email, base_url=settings.PUBLIC_BASE_URL)
    token = reference_token(message_pk=message.pk, recipient=message.to_email)
    sender = formataddr((inbox.display_name, inbox.email))
    envelope = _envelope_sender(inbox, token)
    headers = {
        "Message-ID": message_id,
        # Bounces and complaint reports quote it: proof of which e-mail they are about.
        REFERENCE_HEADER: token,
        "List-Unsubscribe": f"<mailto:{inbox.email}?subject=unsubscribe>, <{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if envelope:
        headers["From"] = sender  # the header; from_email becomes the envelope sender only
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
        headers["References"] = message.in_reply_to
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body.rstrip() + "\n" + _footer_text(postal, unsubscribe),
        from_email=envelope or sender,
        to=[message.to_email],
        headers=headers,
    )
    email.attach_alternative(
        linebreaks(message.body, autoescape=True) + _footer_html(postal, unsubscribe), "text/html"
    )
    return email
