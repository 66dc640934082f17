"""Mail transports per inbox: SMTP through Django's backend, Resend through django-anymail.

Every outcome is classified so the caller knows whether the e-mail may have left:
only `uncertain` means "the server may have accepted it", and such a message is
never retried blindly.
"""

from __future__ import annotations

import contextlib
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import requests
from anymail.exceptions import AnymailError, AnymailRequestsAPIError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import sanitize_address
from urllib3.exceptions import ConnectTimeoutError

from crm.models import Inbox
from crm.upsert import PLAIN_EMAIL
from outreach.mail_servers import GuardedSMTPBackend

from .dkim import outgoing_sign

ACCEPTED = "accepted"
HARD_BOUNCE = "hard_bounce"  # the server refused the recipient for good (5xx)
DEFERRED = "deferred"  # the recipient was refused for now (4xx): try later, inbox is fine
INBOX_FAILED = "inbox_failed"  # nothing was accepted; the inbox/provider is at fault
REJECTED = "rejected"  # the server refused this message for good (content, policy)
UNCERTAIN = "uncertain"  # the connection broke while the message was being handed over


@dataclass(frozen=True)
class TransportResult:
    outcome: str
    detail: str = ""


def smtp_backend(inbox: Inbox) -> GuardedSMTPBackend:
    """Django's SMTP backend configured from the inbox's own server and credentials,
    connecting only to addresses the mail-host policy allows."""
    return GuardedSMTPBackend(
        host=inbox.smtp_host,
        port=inbox.smtp_port,
        username=inbox.smtp_username or "",
        password=inbox.smtp_password or "",
        use_tls=inbox.smtp_security == Inbox.Security.STARTTLS,
        use_ssl=inbox.smtp_security == Inbox.Security.TLS,
        timeout=settings.SEND_SMTP_TIMEOUT_SECONDS,
        fail_silently=False,
    )


def _describe(exc: BaseException) -> str:
    # Exception text from smtplib/anymail never contains the password or API key.
    return f"{type(exc).__name__}: {exc}"[:500]


# Django's address parser costs about 0.2 ms per address. An inbox sends from one
# address, and a plain lower-case ASCII address is already what it would return.
@lru_cache(maxsize=1024)
def _sender_address(from_email: str, encoding: str) -> str:
    return sanitize_address(from_email, encoding)


def _recipient_address(address: str, encoding: str) -> str:
    return address if PLAIN_EMAIL.fullmatch(address) else sanitize_address(address, encoding)


def _mime_bytes(email: EmailMultiAlternatives, inbox: Inbox) -> bytes:
    message = email.message()
    if message.is_multipart():
        # Left unset, the generator draws a boundary and compiles a regex per e-mail
        # to check the text does not contain it; 128 random bits cannot collide.
        message.set_boundary(f"=_jengu_{secrets.token_hex(16)}")
    return outgoing_sign(inbox=inbox, raw=message.as_bytes(linesep="\r\n"))


def _smtp_hand_over(
    conn: smtplib.SMTP,
    email: EmailMultiAlternatives,
    before_data: Callable[[], None],
    inbox: Inbox,
) -> TransportResult:
    """MAIL, RCPT and DATA one by one, so a break is known to be before or during DATA."""
    encoding = email.encoding or settings.DEFAULT_CHARSET
    sender = _sender_address(email.from_email, encoding)
    recipients = [_recipient_address(a, encoding) for a in email.recipients()]
    conn.ehlo_or_helo_if_needed()
    code, reply = conn.mail(sender)
    if code != 250:
        conn.rset()
        return TransportResult(INBOX_FAILED, f"MAIL FROM refused: {code} {reply!r}")
    for recipient in recipients:
        code, reply = conn.rcpt(recipient)
        if code not in (250, 251):
            conn.rset()
            outcome = HARD_BOUNCE if code >= 500 else DEFERRED
            return TransportResult(outcome, f"RCPT {recipient} refused: {code} {reply!r}")
    before_data()
    try:
        code, reply = conn.data(_mime_bytes(email, inbox))
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        return TransportResult(UNCERTAIN, _describe(exc))
    if code == 250:
        return TransportResult(ACCEPTED, f"{code} {reply!r}")
    return TransportResult(REJECTED if code >= 500 else INBOX_FAILED, f"DATA: {code} {reply!r}")


def smtp_send(
    inbox: Inbox, email: EmailMultiAlternatives, before_data: Callable[[], None]
) -> TransportResult:
    backend = smtp_backend(inbox)
    try:
        backend.open()
    except (smtplib.SMTPException, OSError) as exc:
        return TransportResult(INBOX_FAILED, _describe(exc))
    try:
        return _smtp_hand_over(backend.connection, email, before_data, inbox)
    except smtplib.SMTPDataError as exc:
        return TransportResult(REJECTED if exc.smtp_code >= 500 else INBOX_FAILED, _describe(exc))
    except (smtplib.SMTPException, OSError) as exc:
        # Anything before DATA: the server has not taken the message.
        return TransportResult(INBOX_FAILED, _describe(exc))
    finally:
        # The message's fate is already decided; a failing QUIT changes nothing.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            backend.close()


def _never_connected(exc: AnymailRequestsAPIError) -> bool:
    """True when the request never reached the API (refused or timed-out connect).

    Anymail's error is also the original requests exception; a break after the
    request went out (read timeout, reset) may mean Resend accepted it.
    """
    if not isinstance(exc, requests.ConnectionError):
        return False
    cause = exc.__cause__
    reason = getattr(cause.args[0], "reason", None) if cause and cause.args else None
    return isinstance(reason, ConnectTimeoutError)


# Resend's answers that are about this message (content, fields); any other 4xx/5xx is
# about the inbox or account (key, quota, sender domain, outage) and moves the mail on.
RESEND_MESSAGE_STATUSES = (400, 422)
RESEND_SENDER_ERRORS = frozenset({"invalid_from_address", "invalid_access", "invalid_region"})


def _resend_error_name(exc: AnymailRequestsAPIError) -> str:
    with contextlib.suppress(AttributeError, ValueError, TypeError):
        return str(exc.response.json().get("name", ""))
    return ""


def _resend_outcome(exc: AnymailRequestsAPIError) -> str:
    if exc.status_code in RESEND_MESSAGE_STATUSES:
        return INBOX_FAILED if _resend_error_name(exc) in RESEND_SENDER_ERRORS else REJECTED
    return INBOX_FAILED


def resend_send(
    inbox: Inbox, email: EmailMultiAlternatives, before_data: Callable[[], None]
) -> TransportResult:
    connection = get_connection(
        "anymail.backends.resend.EmailBackend",
        api_key=inbox.resend_api_key,
        api_url=settings.RESEND_API_URL,
        timeout=settings.SEND_SMTP_TIMEOUT_SECONDS,
        fail_silently=False,
    )
    email.connection = connection
    before_data()
    try:
        email.send()
    except AnymailRequestsAPIError as exc:
        if exc.status_code is None:
            outcome = INBOX_FAILED if _never_connected(exc) else UNCERTAIN
            return TransportResult(outcome, _describe(exc))
        return TransportResult(_resend_outcome(exc), _describe(exc))
    except AnymailError as exc:
        return TransportResult(REJECTED, _describe(exc))
    status = email.anymail_status
    return TransportResult(ACCEPTED, f"resend id {status.message_id}")


def transport_send(
    *, inbox: Inbox, email: EmailMultiAlternatives, before_data: Callable[[], None]
) -> TransportResult:
    """Hand `email` to the inbox's provider; never raises for provider trouble.

    `before_data` runs right before the message itself goes out (SMTP DATA, the
    API request): up to there, a crash provably sent nothing.
    """
    if inbox.transport == Inbox.Transport.RESEND:
        return resend_send(inbox, email, before_data)
    return smtp_send(inbox, email, before_data)
