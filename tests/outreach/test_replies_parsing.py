"""MIME parsing: any charset, HTML-only, attachments ignored, quotes and signatures
stripped for classification, and malformed input refused with a clear error."""

from __future__ import annotations

import pytest

from jengu.bus import InvalidDataError
from outreach.replies.errors import MalformedEmailError
from outreach.replies.html import html_to_text
from outreach.replies.parsing import parse_email
from tests.outreach.replies_fixtures import eml


def test_gmail_reply_keeps_the_new_text_and_drops_the_quoted_footer():
    parsed = parse_email(eml("gmail_interested.eml"))

    assert parsed.from_email == "anna@hotel-lisboa.example"  # lower-cased
    assert parsed.in_reply_to == ["<step1.anna@jengu.example>"]
    assert "Yes, we are interested — this sounds good" in parsed.reply_text  # QP + UTF-8
    assert "unsubscribe" in parsed.text  # the full body still has our quoted footer…
    assert "unsubscribe" not in parsed.reply_text  # …but classification never sees it
    assert "Best," not in parsed.reply_text  # sign-off stripped


def test_outlook_reply_in_windows_1252_with_an_attachment():
    parsed = parse_email(eml("outlook_question.eml"))

    assert parsed.reply_text.startswith("How much does it cost per room")
    assert "General Manager – Hotel Boston" in parsed.text  # =96 in cp1252 is an en dash
    assert "From: Jengu Sales" not in parsed.reply_text  # Outlook header block cut
    assert "JVBERi0" not in parsed.text and "%PDF" not in parsed.text  # attachment ignored
    assert parsed.thread_ids == ["<step1.tom@jengu.example>"]  # from References only


def test_latin1_german_reply_with_encoded_subject_and_sender():
    parsed = parse_email(eml("german_meeting.eml"))

    assert parsed.subject == "AW: Eine Frage für Hotel Berlin"
    assert "Können wir nächste Woche telefonieren?" in parsed.reply_text
    assert "kurze Nachricht" not in parsed.reply_text  # "Am … schrieb" quote cut


def test_html_only_message_becomes_text_without_quoted_blocks():
    parsed = parse_email(eml("french_unsubscribe_html.eml"))

    assert parsed.subject == "Re: Une question pour l'Hôtel Paris"
    assert "Merci de me retirer de votre liste" in parsed.reply_text
    assert "color:red" not in parsed.text  # <style> dropped
    assert "Intéressée" not in parsed.reply_text  # inside <blockquote>
    assert parsed.thread_ids == ["<step2.marie@jengu.example>", "<step1.marie@jengu.example>"]


def test_html_to_text_marks_gmail_quote_containers_as_quoted():
    text = html_to_text(
        '<div>Sounds good&nbsp;!</div><div class="gmail_quote">On Mon wrote:'
        "<blockquote>old <b>text</b></blockquote></div>"
    )
    assert text.splitlines() == ["Sounds good !", "> On Mon wrote:", "> old text"]


def test_dsn_fields_and_the_embedded_original_message_id():
    postfix = parse_email(eml("postfix_dsn_hard.eml"))
    exchange = parse_email(eml("exchange_dsn_hard.eml"))

    assert postfix.report_type == "delivery-status"
    assert [(d.recipient, d.action, d.status) for d in postfix.delivery_status] == [
        ("bob@hotel-denver.example", "failed", "5.1.1")
    ]
    assert postfix.original_message_ids == ["<step1.bob@jengu.example>"]  # text/rfc822-headers
    assert exchange.original_message_ids == ["<step1.sue@jengu.example>"]  # message/rfc822
    assert "Hi Sue" not in exchange.text  # the returned original is not the bounce's text


def test_unknown_charsets_truncated_parts_and_bad_dates_do_not_crash():
    parsed = parse_email(eml("broken_mime.eml"))

    assert parsed.from_email == "nora@hotel-oslo.example"
    assert parsed.date is None
    assert "vi er interessert" in parsed.text
    assert parsed.subject  # kept as it came rather than failing


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"   \r\n\r\n", "empty message"),
        (eml("malformed_not_email.eml"), "no e-mail header"),
        (bytes(range(256)) * 16, "binary data"),
        (b"just a line of text\nand another\n", "no e-mail header"),
    ],
)
def test_input_that_is_not_an_email_raises_a_clear_invalid_data_error(raw, reason):
    with pytest.raises(MalformedEmailError, match=reason) as caught:
        parse_email(raw)
    assert isinstance(caught.value, InvalidDataError)  # the bus dead-letters it, no retries
