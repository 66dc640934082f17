"""Write a realistic reply to a message we sent (demo and manual testing).

`make run` keeps every sent e-mail as an .eml under `.local/mail/`; `demo_reply_eml`
turns one of them into the prospect's answer (or a bounce, or an out-of-office),
threaded by In-Reply-To/References just as a mail client would.
"""

from __future__ import annotations

import email
from datetime import datetime, timedelta
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid, parseaddr

from outreach.replies.parsing import header_text, message_text

BODIES = {
    "interested": "Hi,\n\nYes, this sounds interesting. Please send me more details.\n\nBest",
    "meeting": "Hello,\n\nCould we schedule a quick call next Tuesday at 10?\n\nThanks",
    "question": "Hi,\n\nHow much does it cost per room per month?\n",
    "not_interested": "Thanks, but we are not interested at this time.\n",
    "unsubscribe": "Please remove me from your list and do not contact me again.\n",
}
KINDS = (*BODIES, "ooo", "bounce")


def demo_reply_eml(*, sent: bytes, kind: str, now: datetime) -> bytes:
    """The raw bytes of a `kind` answer to the sent message `sent`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    original = email.message_from_bytes(sent)
    if kind == "bounce":
        return _bounce(original, now)
    recipient = parseaddr(header_text(original, "To"))[1]
    reply = EmailMessage()
    reply["From"] = header_text(original, "To")
    reply["To"] = header_text(original, "From")
    reply["Subject"] = "Re: " + header_text(original, "Subject")
    reply["Date"] = format_datetime(now)
    reply["Message-ID"] = make_msgid(domain=recipient.rpartition("@")[2] or "example.com")
    message_id = header_text(original, "Message-ID")
    reply["In-Reply-To"] = message_id
    reply["References"] = message_id
    if kind == "ooo":
        reply.replace_header("Subject", "Automatic reply: " + header_text(original, "Subject"))
        reply["Auto-Submitted"] = "auto-replied"
        back = (now + timedelta(days=7)).strftime("%d %B %Y")
        text = f"I am out of the office until {back} with limited access to e-mail.\n"
    else:
        text = BODIES[kind] + "\n\n" + _quoted(original)
    reply.set_content(text)
    return reply.as_bytes()


def _quoted(original: Message) -> str:
    wrote = f"On {header_text(original, 'Date')}, {header_text(original, 'From')} wrote:"
    return wrote + "\n" + "\n".join(f"> {line}" for line in message_text(original).splitlines())


_BOUNCE = """\
From: MAILER-DAEMON@mail.example.com (Mail Delivery System)
To: {sender}
Subject: Undelivered Mail Returned to Sender
Date: {date}
Message-ID: {message_id}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=utf-8

<{recipient}>: host mx.example.com said: 550 5.1.1 <{recipient}>:
    Recipient address rejected: User unknown (in reply to RCPT TO command)

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.com

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--{boundary}
Content-Type: text/rfc822-headers

{headers}
--{boundary}--
"""


def _bounce(original: Message, now: datetime) -> bytes:
    """A Postfix-style DSN for the original's recipient, embedding its headers."""
    return _BOUNCE.format(
        sender=header_text(original, "From"),
        recipient=parseaddr(header_text(original, "To"))[1],
        date=format_datetime(now),
        message_id=make_msgid(domain="mail.example.com"),
        boundary="bounce-boundary-1",
        headers="".join(f"{name}: {value}\n" for name, value in original.items()),
    ).encode()
