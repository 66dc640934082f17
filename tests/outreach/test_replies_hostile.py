"""Mail written by an attacker: one message must not stall a worker, and a claim a
stranger makes (a bounce, a complaint, an opt-out, an "interested") changes nothing
unless it refers to an e-mail we sent."""

from __future__ import annotations

import pytest

from crm.models import EmailStatus, Enrollment, Stage
from jengu.alerts import recent_alerts
from outreach.models import EmailMessage, InboundEmail
from outreach.replies.errors import MalformedEmailError
from outreach.replies.parsing import parse_email
from outreach.sending.tokens import reference_token
from outreach.suppression import is_suppressed
from tests.outreach.replies_fixtures import eml, receive
from tests.work_budget import calls_of, work_budget

pytestmark = pytest.mark.django_db
Label = InboundEmail.Label


def _headers(count: int) -> bytes:
    fields = b"".join(b"X-Filler-%d: v\r\n" % i for i in range(count))
    return b"From: eve@evil.example\r\nSubject: hi\r\nMessage-ID: <h@evil.example>\r\n" + fields


def _html(size: int) -> bytes:
    unit = b"<div>x"
    head = b"From: eve@evil.example\r\nMessage-ID: <n@evil.example>\r\nContent-Type: text/html\r\n"
    return head + b"\r\n" + unit * (size // len(unit))


# --- one e-mail must not stall a worker ---------------------------------------------


def test_a_100k_header_message_is_flagged_within_a_small_work_budget():
    raw = _headers(100_000) + b"\r\nbody\r\n"

    with work_budget(10_000), pytest.raises(MalformedEmailError, match="too many header fields"):
        parse_email(raw)


def test_a_100k_header_message_is_stored_and_flagged_not_lost(contact):
    inbound, _ = _receive_failing(_headers(100_000) + b"\r\nbody\r\n")

    assert inbound.status == "failed" and "too many header fields: 100003" in inbound.error


def test_a_1mb_nested_html_body_is_read_within_a_linear_work_budget():
    with work_budget(1_500_000):
        parsed = parse_email(_html(1_000_000))

    assert parsed.text.startswith("x\nx")


@pytest.mark.parametrize(
    ("small", "large"),
    [
        (_headers(400) + b"\r\nhi\r\n", _headers(1600) + b"\r\nhi\r\n"),
        (_html(10_000), _html(40_000)),
    ],
    ids=["headers", "html"],
)
def test_parsing_work_grows_linearly_with_the_input(small, large):
    parse_email(small)  # warm: lazily compiled patterns are not the message's cost

    ratio = calls_of(lambda: parse_email(large)) / calls_of(lambda: parse_email(small))

    assert ratio < 4.5  # 4× the input: linear is 4×, quadratic would be 16×


def _receive_failing(raw: bytes):
    try:
        return receive(raw)
    except MalformedEmailError:
        return InboundEmail.objects.get(), None


# --- forged bounces and complaints ---------------------------------------------------


def test_a_forged_bounce_that_names_nothing_we_sent_changes_nothing(contact):
    bob = contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")
    forged = eml("postfix_dsn_hard.eml").replace(b"<step1.bob@", b"<guessed.bob@")

    inbound, result = receive(forged)

    bob.prospect.refresh_from_db()
    bob.inbox.refresh_from_db()
    assert (inbound.label, inbound.match_method) == (Label.BOUNCE_HARD, "none")
    assert inbound.prospect is None
    assert not is_suppressed("bob@hotel-denver.example")
    assert bob.prospect.stage == Stage.CONTACTED
    assert bob.prospect.email_status != EmailStatus.INVALID
    assert bob.inbox.bounce_count == 0
    assert result.effects[0].startswith("unmatched report, stored for an operator")


def test_a_bounce_for_another_address_than_our_recipient_changes_nothing(contact):
    contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")
    carol = contact("carol@hotel-denver.example", "<step1.carol@jengu.example>")
    # Bob (who knows our Message-ID) forges a bounce claiming carol's address failed.
    forged = eml("postfix_dsn_hard.eml").replace(b"bob@hotel-denver", b"carol@hotel-denver")
    forged = forged.replace(b"<step1.carol@", b"<step1.bob@")

    inbound, _ = receive(forged)

    carol.prospect.refresh_from_db()
    assert inbound.match_method == "none"
    assert "not our recipient" in inbound.details["match"]["why"]
    assert not is_suppressed("carol@hotel-denver.example")
    assert not is_suppressed("bob@hotel-denver.example")
    assert carol.prospect.stage == Stage.CONTACTED


def test_a_bounce_that_quotes_nothing_is_matched_by_its_verp_address(contact):
    bob = contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")
    token = reference_token(message_pk=bob.outbound.pk, recipient="bob@hotel-denver.example")
    bare = (
        b"From: MAILER-DAEMON@mx.hotel-denver.example\r\n"
        b"To: sales+" + token.encode() + b"@jengu.example\r\n"
        b"Subject: failure notice\r\nMessage-ID: <q1@mx.hotel-denver.example>\r\n\r\n"
        b"Hi. This is the qmail-send program at mx.hotel-denver.example.\r\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        b"<bob@hotel-denver.example>:\r\n"
        b"192.0.2.10 does not like recipient.\r\n"
        b"Remote host said: 550 5.1.1 <bob@hotel-denver.example>... User unknown\r\n"
    )

    inbound, _ = receive(bare)

    bob.prospect.refresh_from_db()
    assert (inbound.label, inbound.match_method) == (Label.BOUNCE_HARD, "token")
    assert inbound.replied_to == bob.outbound
    assert is_suppressed("bob@hotel-denver.example")
    assert bob.prospect.email_status == EmailStatus.INVALID


def test_a_token_with_a_forged_signature_is_not_believed(contact):
    bob = contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")
    forged = eml("gmail_dsn_mailbox_full.eml").replace(b"kim@hotel-seoul", b"bob@hotel-denver")
    forged = forged.replace(b"<step1.kim@jengu.example>", b"<unknown@jengu.example>")
    forged = forged.replace(b"{REF}", f"jb-{bob.outbound.pk}-0123456789abcdef".encode())

    inbound, _ = receive(forged)

    assert inbound.match_method == "none" and inbound.replied_to is None


def test_a_complaint_from_nobody_we_wrote_to_changes_nothing(contact):
    amy = contact("amy@hotel-austin.example", "<step1.amy@jengu.example>")
    forged = eml("yahoo_arf_complaint.eml").replace(b"<step1.amy@", b"<made-up@")

    inbound, _ = receive(forged)

    amy.prospect.refresh_from_db()
    assert (inbound.label, inbound.match_method) == (Label.COMPLAINT, "none")
    assert not is_suppressed("amy@hotel-austin.example")
    assert amy.prospect.stage == Stage.CONTACTED


# --- unauthenticated replies --------------------------------------------------------


def _interested_alerts() -> list:
    return [a for a in recent_alerts() if a.kind == "interested_reply"]


def test_a_strangers_interested_mail_raises_no_alert(
    contact, settings, django_capture_on_commit_callbacks
):
    settings.ALERT_WEBHOOK_URL = ""
    stranger = eml("gmail_interested.eml").replace(
        b"<step1.anna@jengu.example>", b"<nothing-we-sent@jengu.example>"
    )

    with django_capture_on_commit_callbacks(execute=True):
        inbound, _ = receive(stranger.replace(b"Anna@Hotel-Lisboa.example", b"eve@evil.example"))

    assert inbound.label == Label.INTERESTED and inbound.needs_human
    assert inbound.match_method == "none"
    assert _interested_alerts() == []


def test_a_from_spoofed_interested_reply_moves_nothing_and_alerts_nobody(
    contact, settings, django_capture_on_commit_callbacks
):
    settings.ALERT_WEBHOOK_URL = ""
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")
    spoofed = (
        eml("gmail_interested.eml")
        .replace(b"<step1.anna@jengu.example>", b"<nothing-we-sent@jengu.example>")
        .replace(b"<CAJx8gmail-anna-1@", b"<spoofed-1@")
    )

    with django_capture_on_commit_callbacks(execute=True):
        inbound, _ = receive(spoofed)

    anna.prospect.refresh_from_db()
    anna.enrollment.refresh_from_db()
    assert (inbound.match_method, inbound.prospect) == ("sender", anna.prospect)
    assert inbound.needs_human and not inbound.details["match"]["trusted"]
    assert anna.prospect.stage == Stage.CONTACTED
    assert anna.enrollment.status == Enrollment.Status.ACTIVE
    assert _interested_alerts() == []

    with django_capture_on_commit_callbacks(execute=True):  # the real reply, in our thread
        receive("gmail_interested.eml")
    assert len(_interested_alerts()) == 1


def test_an_out_of_office_from_a_spoofed_sender_pauses_nothing(contact):
    mike = contact("mike@hotel-miami.example", "<step1.mike@jengu.example>")
    raw = (
        b"From: Mike Ross <mike@hotel-miami.example>\r\nTo: sales@jengu.example\r\n"
        b"Subject: Out of Office\r\nAuto-Submitted: auto-replied\r\n"
        b"Message-ID: <ooo-spoof@evil.example>\r\n\r\n"
        b"I am out of the office until 1 March 2027.\r\n"
    )

    receive(raw)

    mike.enrollment.refresh_from_db()
    assert mike.enrollment.status == Enrollment.Status.ACTIVE


# --- odd bytes ----------------------------------------------------------------------


def test_nul_bytes_in_a_real_bounce_neither_crash_nor_hide_it(contact):
    contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")
    raw = eml("postfix_dsn_hard.eml").replace(b"The mail system\n", b"The mail system\x00\n")
    raw = raw.replace(b"Subject: Undelivered", b"Subject: \x00Undelivered")

    inbound, _ = receive(raw)

    assert (inbound.status, inbound.label) == ("processed", Label.BOUNCE_HARD)
    assert inbound.details["notes"] == ["2 NUL byte(s) removed before parsing"]
    assert "\x00" not in inbound.subject
    assert is_suppressed("bob@hotel-denver.example")


def test_our_outbound_message_still_counts_once_the_bounce_is_matched(contact):
    bob = contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")

    receive(eml("postfix_dsn_hard.eml"))

    bob.outbound.refresh_from_db()
    assert bob.outbound.status == EmailMessage.Status.BOUNCED
