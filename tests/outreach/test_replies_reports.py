"""Bounces and complaints about e-mails we sent, as real mail servers write them:
whose fault a bounce is decides what it does, and every e-mail carries the token
that proves which one a report is about."""

from __future__ import annotations

import email

import pytest
from django.core.management import CommandError, call_command

from crm.inbox_services import inbox_resume
from crm.models import EmailStatus, Enrollment, Inbox, Stage
from jengu.alerts import recent_alerts
from outreach.models import EmailMessage, InboundEmail
from outreach.replies.sender_auth import sender_auth
from outreach.sending.bounces import complaint_rate
from outreach.sending.message import email_build
from outreach.sending.rotation import rotation_candidates
from outreach.sending.tokens import HEADER, Reference, reference_valid, references_in
from outreach.suppression import is_suppressed
from tests.outreach.replies_fixtures import eml, receive

pytestmark = pytest.mark.django_db
Label = InboundEmail.Label


def _with_token(name: str, outbound: EmailMessage) -> bytes:
    """The fixture as the server sent it back: quoting the token our e-mail carried."""
    built = email_build(message=outbound, inbox=outbound.inbox, message_id=outbound.message_id)
    return eml(name).replace(b"{REF}", built.extra_headers[HEADER].encode())


def _alerts(kind: str) -> list:
    return [a for a in recent_alerts() if a.kind == kind]


# --- the token ----------------------------------------------------------------------


def test_every_outgoing_email_carries_a_token_bound_to_its_recipient(contact):
    bob = contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")

    built = email_build(message=bob.outbound, inbox=bob.inbox, message_id="<m@jengu.example>")
    mime = email.message_from_bytes(built.message().as_bytes())

    [reference] = references_in(mime[HEADER])
    assert reference.message_pk == bob.outbound.pk
    assert reference_valid(reference=reference, recipient="bob@hotel-denver.example")
    assert not reference_valid(reference=reference, recipient="carol@hotel-denver.example")
    assert not reference_valid(
        reference=Reference(bob.outbound.pk, "0" * 16), recipient="bob@hotel-denver.example"
    )
    assert built.from_email == mime["From"]  # no VERP unless asked for


def test_verp_puts_the_token_in_the_envelope_sender_of_smtp_inboxes(contact, settings):
    settings.BOUNCE_VERP_ENABLED = True
    bob = contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")

    built = email_build(message=bob.outbound, inbox=bob.inbox, message_id="<m@jengu.example>")

    token = built.extra_headers[HEADER]
    assert built.from_email == f"sales+{token}@jengu.example"  # MAIL FROM: bounces go here
    assert built.message()["From"] == "Jengu Sales <sales@jengu.example>"

    bob.inbox.transport = Inbox.Transport.RESEND  # the ESP owns its return path
    resend = email_build(message=bob.outbound, inbox=bob.inbox, message_id="<m@jengu.example>")
    assert resend.from_email == "Jengu Sales <sales@jengu.example>"
    assert "From" not in resend.extra_headers


# --- whose fault --------------------------------------------------------------------


def test_a_blocklisted_inbox_is_paused_and_an_operator_alerted_not_the_prospect_punished(
    contact, django_capture_on_commit_callbacks
):
    tom = contact("tom@hotel-boston.example", "<step1.tom@jengu.example>")
    campaign = tom.enrollment.campaign
    campaign.inboxes.add(tom.inbox)
    assert rotation_candidates(campaign=campaign, first_step=False) == [tom.inbox]

    with django_capture_on_commit_callbacks(execute=True):
        inbound, _ = receive(_with_token("postfix_dsn_blocklisted.eml", tom.outbound))

    tom.prospect.refresh_from_db()
    tom.enrollment.refresh_from_db()
    tom.inbox.refresh_from_db()
    assert (inbound.label, inbound.details["reason"]) == (Label.BOUNCE_SOFT, "blocked")
    assert inbound.match_method == "token"
    assert "blocked reported by the receiving server" in tom.inbox.paused_reason
    assert not is_suppressed("tom@hotel-boston.example")
    assert tom.prospect.email_status != EmailStatus.INVALID
    assert tom.enrollment.status == Enrollment.Status.ACTIVE
    assert len(_alerts("inbox_paused")) == 1
    assert rotation_candidates(campaign=campaign, first_step=False) == []  # follow-ups too

    assert inbox_resume(inbox=tom.inbox)
    assert rotation_candidates(campaign=campaign, first_step=True) == [tom.inbox]


def test_our_own_dmarc_failure_pauses_the_inbox(contact, django_capture_on_commit_callbacks):
    lea = contact("lea@hotel-lyon.example", "<step1.lea@jengu.example>")

    with django_capture_on_commit_callbacks(execute=True):
        inbound, _ = receive(eml("gmail_dsn_dmarc_fail.eml"))  # matched by its Message-ID

    lea.inbox.refresh_from_db()
    assert (inbound.details["reason"], inbound.details["party"]) == ("auth_failure", "sender")
    assert lea.inbox.paused_reason.startswith("auth_failure")
    assert not is_suppressed("lea@hotel-lyon.example")
    assert _alerts("inbox_paused")


@pytest.mark.parametrize(
    ("diagnostic", "reason"),
    [
        (
            "452 4.2.1 The user you are trying to contact is receiving mail at a rate that "
            "prevents additional messages from being delivered",
            "rate_limited",
        ),
        (
            "550 5.7.1 Our system has detected that this message is likely unsolicited mail. "
            "To reduce the amount of spam sent to Gmail, this message has been blocked",
            "spam",
        ),
        (
            "421 4.7.0 [TSS04] Messages from 198.51.100.25 temporarily deferred due to "
            "unexpected volume or user complaints",
            "blocked",
        ),
        (
            "554 5.7.1 Service unavailable; Client host [198.51.100.25] blocked using "
            "zen.spamhaus.org",
            "blocked",
        ),
        ("550 5.1.1 The email account that you tried to reach does not exist.", "user_unknown"),
        ("552 5.2.2 Mailbox full", "mailbox_full"),
    ],
)
def test_the_reason_not_the_first_digit_decides(diagnostic, reason):
    from outreach.sending.reasons import bounce_reason

    status = diagnostic.split(" ")[1]
    result = bounce_reason(status=status, diagnostic=diagnostic)

    assert result.name == reason
    assert result.hard == (reason == "user_unknown")


# --- complaints ---------------------------------------------------------------------


def test_a_spam_complaint_suppresses_stops_alerts_and_counts(
    contact, settings, django_capture_on_commit_callbacks
):
    settings.BOUNCE_MIN_SENDS = 1
    settings.COMPLAINT_RATE_THRESHOLD = 0.003
    amy = contact("amy@hotel-austin.example", "<step1.amy@jengu.example>")

    with django_capture_on_commit_callbacks(execute=True):
        inbound, _ = receive(_with_token("yahoo_arf_complaint.eml", amy.outbound))

    amy.prospect.refresh_from_db()
    amy.enrollment.refresh_from_db()
    amy.inbox.refresh_from_db()
    assert (inbound.label, inbound.match_method) == (Label.COMPLAINT, "token")
    assert not inbound.needs_human  # a complaint is never a lead ("would you be interested")
    assert is_suppressed("amy@hotel-austin.example")
    assert amy.prospect.stage == Stage.UNSUBSCRIBED
    assert amy.enrollment.status == Enrollment.Status.STOPPED
    assert complaint_rate(inbox=amy.inbox) == (1, 1)
    assert amy.inbox.sending_paused  # 1 complaint in 1 e-mail is far over 0.3 %
    assert _alerts("spam_complaint") and _alerts("complaint_protection")


def test_a_complaint_report_matched_by_message_id_needs_the_same_recipient(contact):
    contact("amy@hotel-austin.example", "<step1.amy@jengu.example>")
    other = eml("yahoo_arf_complaint.eml").replace(
        b"Original-Rcpt-To: <amy@", b"Original-Rcpt-To: <zoe@"
    )

    inbound, _ = receive(other)

    assert inbound.match_method == "none"
    assert not is_suppressed("amy@hotel-austin.example")


# --- sender authentication ----------------------------------------------------------

PASS = (
    "mx.jengu.example; dkim=pass header.d=hotel-rome.example;"
    " dmarc=pass header.from=hotel-rome.example"
)


@pytest.mark.parametrize(
    ("headers", "from_email", "trusted"),
    [
        ([PASS], "ella@hotel-rome.example", True),
        ([PASS], "ella@other.example", False),  # passes for a domain that is not the From
        (
            ["mx.jengu.example; dkim=fail header.d=hotel-rome.example"],
            "ella@hotel-rome.example",
            False,
        ),
        (
            ["evil.example; dmarc=pass header.from=hotel-rome.example"],
            "ella@hotel-rome.example",
            False,
        ),  # written by someone else's server
        (
            ["mx.jengu.example; spf=fail smtp.mailfrom=hotel-rome.example", PASS],
            "ella@hotel-rome.example",
            False,
        ),  # a forged pass below ours is not read
        (["not a header at all ;;;"], "ella@hotel-rome.example", False),
        ([], "ella@hotel-rome.example", False),
    ],
)
def test_only_our_receiving_servers_topmost_verdict_is_believed(
    settings, headers, from_email, trusted
):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.jengu.example"]

    assert sender_auth(results_headers=headers, from_email=from_email).authenticated is trusted


# --- ingest_eml ---------------------------------------------------------------------


def test_ingest_eml_goes_on_after_bad_files_and_flags_them(contact, tmp_path, capsys):
    bob = contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")
    files = {
        "1-binary.eml": bytes(range(256)) * 8,
        "2-nul-bounce.eml": eml("postfix_dsn_hard.eml").replace(b"\n\n", b"\n\x00\n", 3),
        "3-header-bomb.eml": b"From: e@evil.example\r\n" + b"X-A: b\r\n" * 2000 + b"\r\nx",
        "5-reply.eml": eml("gmail_interested.eml"),
    }
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    paths = [str(tmp_path / name) for name in sorted([*files, "4-missing.eml"])]

    with pytest.raises(CommandError, match="3 of 5 file"):
        call_command("ingest_eml", *paths)

    err = capsys.readouterr().err
    assert "1-binary.eml: inbound" in err and "binary data" in err
    assert "3-header-bomb.eml: inbound" in err and "too many header fields" in err
    assert "4-missing.eml: not read" in err
    statuses = dict(InboundEmail.objects.values_list("subject", "status"))
    assert statuses["Undelivered Mail Returned to Sender"] == "processed"  # NULs and all
    assert statuses["Re: A question for Hotel Lisboa"] == "processed"  # after the bad ones
    assert InboundEmail.objects.filter(status="failed").count() == 2
    assert is_suppressed(bob.prospect.email)


def test_an_operator_can_confirm_an_unmatched_bounce(contact):
    from outreach.replies.services import inbound_relabel

    contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")
    unmatched = eml("postfix_dsn_hard.eml").replace(b"<step1.bob@", b"<lost-in-a-relay.bob@")
    inbound, _ = receive(unmatched)
    assert not is_suppressed("bob@hotel-denver.example")

    inbound_relabel(inbound=inbound, label=Label.BOUNCE_HARD, corrected_by="user:ops")

    assert is_suppressed("bob@hotel-denver.example")  # a person's word is evidence
