"""Classification: rules for bounces, auto-replies and phrases in several languages; the
AI gateway for human replies when a provider answers; rules alone when none does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outreach.models import AICall, InboundEmail
from outreach.replies.ai import reply_classify
from outreach.replies.classify import classify_rules
from outreach.replies.dates import return_date
from outreach.replies.parsing import parse_email
from tests.outreach.replies_fixtures import eml

Label = InboundEmail.Label


def _decide(fixture: str, reference: str):
    parsed = parse_email(eml(fixture))
    return reply_classify(parsed=parsed, rules=classify_rules(parsed), reference=reference)


@pytest.mark.parametrize(
    ("fixture", "label"),
    [
        ("gmail_interested.eml", Label.INTERESTED),
        ("spanish_interested.eml", Label.INTERESTED),
        ("outlook_question.eml", Label.QUESTION),
        ("unknown_sender_question.eml", Label.QUESTION),
        ("german_meeting.eml", Label.MEETING),
        ("html_only_not_interested.eml", Label.NOT_INTERESTED),
        ("french_unsubscribe_html.eml", Label.UNSUBSCRIBE),
        ("unsubscribe_plain.eml", Label.UNSUBSCRIBE),
        ("postfix_dsn_hard.eml", Label.BOUNCE_HARD),
        ("exchange_dsn_hard.eml", Label.BOUNCE_HARD),
        ("postfix_dsn_soft_delayed.eml", Label.BOUNCE_SOFT),
        ("ooo_return_date.eml", Label.AUTO_REPLY),
        ("ooo_german.eml", Label.AUTO_REPLY),
        ("auto_ack_no_date.eml", Label.AUTO_REPLY),
    ],
)
def test_rules_label_each_kind_of_message(fixture, label):
    verdict = classify_rules(parse_email(eml(fixture)))
    assert (verdict.label, verdict.method) == (label, "rules")


@pytest.mark.parametrize(
    ("fixture", "status", "recipient"),
    [
        ("postfix_dsn_hard.eml", "5.1.1", "bob@hotel-denver.example"),
        ("exchange_dsn_hard.eml", "5.1.10", "sue@contoso-hotel.example"),
        ("postfix_dsn_soft_delayed.eml", "4.2.2", "kim@hotel-seoul.example"),
    ],
)
def test_bounces_carry_their_status_code_and_failed_recipient(fixture, status, recipient):
    details = classify_rules(parse_email(eml(fixture))).details
    assert (details["status"], details["recipient"]) == (status, recipient)


def test_a_bounce_without_a_dsn_part_is_judged_by_the_code_in_its_text():
    raw = (
        b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
        b"To: sales@jengu.example\r\nSubject: Delivery Status Notification (Failure)\r\n"
        b"Message-ID: <bounce-x@mail.gmail.com>\r\n\r\n"
        b"The response was: 452 4.2.2 The email account that you tried to reach is over quota.\r\n"
    )
    verdict = classify_rules(parse_email(raw))
    assert (verdict.label, verdict.details["status"]) == (Label.BOUNCE_SOFT, "4.2.2")


def test_out_of_office_return_dates_are_read_in_english_and_german():
    english = classify_rules(parse_email(eml("ooo_return_date.eml"))).details
    german = classify_rules(parse_email(eml("ooo_german.eml"))).details
    acknowledgement = classify_rules(parse_email(eml("auto_ack_no_date.eml"))).details

    assert (english["out_of_office"], english["return_date"]) == (True, "2026-12-07")
    assert (german["out_of_office"], german["return_date"]) == (True, "2027-01-05")
    assert (acknowledgement["out_of_office"], acknowledgement["return_date"]) == (False, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Je suis absente jusqu'au 12 décembre.", "2026-12-12"),
        ("Estaré de vuelta el 3 de diciembre.", "2026-12-03"),
        ("Sono in ferie fino al 10 dicembre.", "2026-12-10"),
        ("Back on 2026-12-02.", "2026-12-02"),
        ("Thanks for your e-mail of 20 November; our team answers within 24 hours.", None),
    ],
)
def test_return_dates_in_other_languages_and_no_false_dates(text, expected):
    sent = datetime(2026, 11, 23, 10, tzinfo=UTC)
    found = return_date(text, sent=sent)
    assert (found.isoformat() if found else None) == expected


def test_a_person_mentioning_a_holiday_is_not_taken_for_a_machine():
    raw = (
        b"From: ann@hotel.example\r\nTo: sales@jengu.example\r\nSubject: Re: hello\r\n"
        b"Message-ID: <ann-1@hotel.example>\r\n\r\nI am on vacation this week.\r\n"
    )
    verdict = classify_rules(parse_email(raw))
    # A phrase alone gives a weak auto-reply verdict that the AI may overrule.
    assert (verdict.label, verdict.confidence) == (Label.AUTO_REPLY, 0.6)


@pytest.mark.django_db
def test_ai_decides_human_replies_when_a_provider_answers(ai_settings, fake_grok):
    ai_settings.REPLY_AI_ENABLED = True
    fake_grok.behave("ok", answer={"label": "meeting", "confidence": 0.93})

    verdict = _decide("gmail_interested.eml", "inbound:1")

    assert (verdict.label, verdict.confidence, verdict.method) == ("meeting", 0.93, "ai")
    assert verdict.details["provider"] == "grok:1"
    sent = fake_grok.requests[0].body["messages"][1]["content"]
    assert "Yes, we are interested" in sent and "unsubscribe" not in sent  # newest text only
    assert AICall.objects.get().purpose == "classify_reply"


@pytest.mark.django_db
def test_an_unusable_ai_answer_falls_through_to_the_next_provider(
    ai_settings, fake_grok, fake_claude
):
    ai_settings.REPLY_AI_ENABLED = True
    fake_grok.behave("ok", answer={"label": "buy_now", "confidence": 0.9})  # not our label
    fake_claude.behave("ok", answer={"label": "question", "confidence": 0.8})

    verdict = _decide("gmail_interested.eml", "")

    assert (verdict.label, verdict.details["provider"]) == ("question", "claude")


@pytest.mark.django_db
def test_rules_decide_when_every_ai_provider_is_down(ai_settings, fake_grok, fake_claude):
    ai_settings.REPLY_AI_ENABLED = True
    fake_grok.behave("error")
    fake_claude.behave("error")

    verdict = _decide("german_meeting.eml", "")

    assert (verdict.label, verdict.method, verdict.details["ai"]) == ("meeting", "rules", "none")


@pytest.mark.django_db
def test_bounces_auto_replies_and_rule_unsubscribes_never_reach_the_ai(ai_settings, fake_grok):
    ai_settings.REPLY_AI_ENABLED = True
    fake_grok.behave("ok", answer={"label": "interested", "confidence": 0.99})

    for fixture in ("postfix_dsn_hard.eml", "ooo_return_date.eml", "unsubscribe_plain.eml"):
        assert _decide(fixture, "").method == "rules"
    assert fake_grok.requests_for() == 0
