"""The demo path: answer a sent .eml as the prospect would and watch the CRM react."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from crm.models import Enrollment
from outreach.models import InboundEmail
from outreach.replies.demo import demo_reply_eml
from outreach.replies.parsing import parse_email
from tests.outreach.replies_fixtures import receive

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
SENT = (
    b"From: Jengu Sales <sales@jengu.example>\r\nTo: Anna Berg <anna@hotel-lisboa.example>\r\n"
    b"Subject: A question for Hotel Lisboa\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    b"Message-ID: <step1.anna@jengu.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Hi Anna,\r\nAre you interested? Unsubscribe: http://127.0.0.1:8000/u/abc\r\n"
)


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("interested", "interested"),
        ("meeting", "meeting"),
        ("question", "question"),
        ("not_interested", "not_interested"),
        ("unsubscribe", "unsubscribe"),
        ("ooo", "auto_reply"),
        ("bounce", "bounce_hard"),
    ],
)
def test_each_demo_reply_is_threaded_and_labelled_as_its_kind(contact, kind, label):
    contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")

    inbound, _ = receive(demo_reply_eml(sent=SENT, kind=kind, now=NOW))

    assert (inbound.label, inbound.match_method) == (label, "header")


def test_a_demo_reply_quotes_the_original_without_it_counting():
    parsed = parse_email(demo_reply_eml(sent=SENT, kind="not_interested", now=NOW))
    assert "> Hi Anna," in parsed.text
    assert "Unsubscribe" not in parsed.reply_text


def test_demo_reply_command_writes_the_reply_and_stops_the_sequence(contact, tmp_path, capsys):
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")
    sent = tmp_path / "20261123-1.eml"
    sent.write_bytes(SENT)

    call_command("demo_reply", str(sent), "--kind", "meeting")

    assert (tmp_path / "20261123-1.reply-meeting.eml").exists()
    assert "label=meeting" in capsys.readouterr().out
    anna.enrollment.refresh_from_db()
    assert anna.enrollment.status == Enrollment.Status.REPLIED
    assert InboundEmail.objects.get().source == "file"
