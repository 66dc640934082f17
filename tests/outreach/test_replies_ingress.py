"""Ingress: IMAP polling against a loopback IMAP server, the anymail webhooks with good
and bad authentication, and the management commands (the raw webhook has its own file)."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.management import CommandError, call_command

from crm.models import Enrollment, Inbox
from outreach.models import ImapCursor, InboundEmail
from outreach.replies.imap import inbox_poll
from tests.fakes.imap import fake_imap  # noqa: F401 - fixture
from tests.outreach.replies_fixtures import EML_DIR, OUR_INBOX, eml

pytestmark = pytest.mark.django_db
SECRET = "inbound-shared-secret"
RAW_URL = "/webhooks/inbound/raw"


@pytest.fixture
def imap_inbox(our_inbox, fake_imap) -> Inbox:  # noqa: F811
    Inbox.objects.filter(pk=our_inbox.pk).update(
        imap_host="127.0.0.1",
        imap_port=fake_imap.port,
        imap_security=Inbox.Security.NONE,
        imap_username=OUR_INBOX,
    )
    our_inbox.refresh_from_db()
    our_inbox.imap_password = "imap-secret"
    our_inbox.save()
    return our_inbox


# --- IMAP ---------------------------------------------------------------------------


def test_poll_stores_new_messages_once_and_then_only_newer_ones(imap_inbox, fake_imap):  # noqa: F811
    fake_imap.add("INBOX", eml("gmail_interested.eml"))
    fake_imap.add("INBOX", eml("postfix_dsn_hard.eml"))

    first = inbox_poll(inbox=imap_inbox)
    again = inbox_poll(inbox=imap_inbox)
    fake_imap.add("INBOX", eml("ooo_german.eml"))
    third = inbox_poll(inbox=imap_inbox)

    assert (len(first.stored), len(again.stored), len(third.stored)) == (2, 0, 1)
    assert again.fetched == 0  # the UID cursor, not deduplication, kept it from refetching
    stored = InboundEmail.objects.order_by("pk")
    assert [row.source for row in stored] == ["imap"] * 3
    assert stored[0].provider_message_id == f"imap:{imap_inbox.pk}:INBOX:1000:1"
    assert bytes(stored[2].raw) == eml("ooo_german.eml")
    cursor = ImapCursor.objects.get(inbox=imap_inbox, folder="INBOX")
    assert (cursor.uidvalidity, cursor.last_uid, cursor.last_error) == (1000, 3, "")
    assert "UID" in fake_imap.commands and "EXAMINE" in fake_imap.commands  # read-only


def test_a_uidvalidity_change_restarts_the_folder_without_duplicates(imap_inbox, fake_imap):  # noqa: F811
    fake_imap.add("INBOX", eml("gmail_interested.eml"))
    inbox_poll(inbox=imap_inbox)
    fake_imap.renumber("INBOX")
    fake_imap.add("INBOX", eml("outlook_question.eml"))

    result = inbox_poll(inbox=imap_inbox)

    assert result.fetched == 2  # both refetched under the new UIDVALIDITY…
    assert InboundEmail.objects.count() == 2  # …but the known one is not stored twice
    assert ImapCursor.objects.get(inbox=imap_inbox).uidvalidity == 1001


def test_wrong_imap_password_is_recorded_without_crashing_or_leaking(imap_inbox, fake_imap):  # noqa: F811
    imap_inbox.imap_password = "wrong-password"
    imap_inbox.save()

    result = inbox_poll(inbox=imap_inbox)

    assert "AUTHENTICATIONFAILED" in result.error
    assert "wrong-password" not in result.error
    assert ImapCursor.objects.get(inbox=imap_inbox).last_error == result.error


def test_an_unreachable_imap_server_is_an_error_for_that_inbox_only(imap_inbox, settings):
    settings.IMAP_TIMEOUT_SECONDS = 2
    Inbox.objects.filter(pk=imap_inbox.pk).update(imap_port=1)  # nothing listens there
    imap_inbox.refresh_from_db()

    result = inbox_poll(inbox=imap_inbox)

    assert result.error and not result.stored


def test_poll_inboxes_command_reports_each_inbox(imap_inbox, fake_imap, capsys):  # noqa: F811
    fake_imap.add("INBOX", eml("gmail_interested.eml"))

    call_command("poll_inboxes")

    assert f"inbox {imap_inbox.pk} INBOX: 1 new" in capsys.readouterr().out


# --- anymail inbound -----------------------------------------------------------------


def _postmark(client, raw: bytes, credentials: str):
    payload = {"MessageID": "pm-123", "RawEmail": raw.decode("utf-8"), "Headers": []}
    auth = base64.b64encode(credentials.encode()).decode()
    return client.post(
        "/anymail/postmark/inbound/",
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def test_anymail_inbound_webhook_with_basic_auth_stores_the_message(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "esp:hook-pass"}

    response = _postmark(client, eml("outlook_question.eml"), "esp:hook-pass")

    assert response.status_code == 200
    stored = InboundEmail.objects.get()
    assert stored.provider_message_id == "postmark:pm-123"
    assert stored.from_email == "tom@hotel-boston.example"
    assert b"How much does it cost per room" in bytes(stored.raw)


def test_anymail_inbound_webhook_refuses_wrong_basic_auth(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "esp:hook-pass"}

    response = _postmark(client, eml("outlook_question.eml"), "esp:guess")

    assert response.status_code == 400
    assert not InboundEmail.objects.exists()


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
def test_anymail_inbound_without_a_configured_secret_stores_nothing(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}

    _postmark(client, eml("outlook_question.eml"), "anyone:anything")

    assert not InboundEmail.objects.exists()


# --- commands ------------------------------------------------------------------------


def test_ingest_eml_stores_and_processes_a_demo_reply(contact, capsys):
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")
    call_command("ingest_eml", str(EML_DIR / "gmail_interested.eml"))

    out = capsys.readouterr().out
    assert "label=interested" in out and "match=header" in out
    anna.enrollment.refresh_from_db()
    assert anna.enrollment.status == Enrollment.Status.REPLIED


def test_ingest_eml_reports_malformed_files_and_keeps_them(contact, tmp_path):
    broken = tmp_path / "broken.eml"
    broken.write_bytes(eml("malformed_not_email.eml"))

    with pytest.raises(CommandError, match="1 file"):
        call_command("ingest_eml", str(broken))

    assert InboundEmail.objects.get().status == "failed"


def test_reprocess_inbound_since_a_date_runs_stored_mail_again(contact, capsys):
    contact("lucy@hotel-leeds.example", "<step1.lucy@jengu.example>")
    call_command("ingest_eml", str(EML_DIR / "html_only_not_interested.eml"))
    InboundEmail.objects.update(label="other")  # as if an old rule had got it wrong

    call_command("reprocess_inbound", "--since", "2020-01-01")

    assert InboundEmail.objects.get().label == "not_interested"
    assert "1 reprocessed, 0 malformed" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--since"):
        call_command("reprocess_inbound", "--since", "last tuesday")
