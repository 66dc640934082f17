"""Secrets stored with EncryptedTextField are ciphertext in the database."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from jengu.apikeys.models import WebhookSubscription
from tests.factories import InboxFactory

pytestmark = pytest.mark.django_db


def test_inbox_password_is_encrypted_at_rest_and_readable_in_python():
    inbox = InboxFactory(smtp_password="hunter2-secret")

    with connection.cursor() as cursor:
        cursor.execute("SELECT smtp_password FROM crm_inbox WHERE id = %s", [inbox.pk])
        stored = cursor.fetchone()[0]

    assert "hunter2" not in stored
    assert stored.startswith("gAAAA"), "Fernet token"
    inbox.refresh_from_db()
    assert inbox.smtp_password == "hunter2-secret"


def test_blank_secret_stays_blank():
    inbox = InboxFactory(smtp_password="")
    inbox.refresh_from_db()
    assert inbox.smtp_password == ""


# --- key rotation -----------------------------------------------------------------


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_a_second_key_still_decrypts_and_new_writes_use_the_first(settings):
    settings.FIELD_ENCRYPTION_KEY = "old-key"
    inbox = InboxFactory(smtp_password="under-old")

    settings.FIELD_ENCRYPTION_KEY = "new-key, old-key"
    inbox.refresh_from_db()
    assert inbox.smtp_password == "under-old"
    fresh = InboxFactory(smtp_password="under-new")

    settings.FIELD_ENCRYPTION_KEY = "new-key"
    fresh.refresh_from_db()
    assert fresh.smtp_password == "under-new"
    with pytest.raises(ValueError, match="cannot decrypt"):
        inbox.refresh_from_db()


def test_rotation_re_encrypts_every_secret_so_the_old_key_can_go(settings):
    settings.FIELD_ENCRYPTION_KEY = ""  # derived from SECRET_KEY, as before any key was set
    inbox = InboxFactory(smtp_password="smtp-pw", imap_password="imap-pw", resend_api_key="")
    hook = WebhookSubscription.objects.create(url="https://crm.example/h", secret="whsec")
    settings.FIELD_ENCRYPTION_KEY = f"brand-new-key,{settings.SECRET_KEY}"

    assert rotate("--dry-run") == (
        "would re-encrypt: 3, already on the first key: 0, unreadable: 0"
    )
    assert rotate() == "re-encrypted: 3, already on the first key: 0, unreadable: 0"
    assert rotate() == "re-encrypted: 0, already on the first key: 3, unreadable: 0"

    settings.FIELD_ENCRYPTION_KEY = "brand-new-key"
    inbox.refresh_from_db()
    hook.refresh_from_db()
    assert (inbox.smtp_password, inbox.imap_password, hook.secret) == (
        "smtp-pw",
        "imap-pw",
        "whsec",
    )


def test_a_value_no_key_reads_is_reported_and_the_rest_rotated(settings):
    settings.FIELD_ENCRYPTION_KEY = "lost-key"
    lost = InboxFactory(smtp_password="gone")
    settings.FIELD_ENCRYPTION_KEY = "old-key"
    kept = InboxFactory(smtp_password="kept")
    settings.FIELD_ENCRYPTION_KEY = "new-key,old-key"
    err = StringIO()

    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_encryption_keys", stdout=StringIO(), stderr=err)

    assert f"crm.Inbox.smtp_password #{lost.pk}: no configured key" in err.getvalue()
    settings.FIELD_ENCRYPTION_KEY = "new-key"
    kept.refresh_from_db()
    assert kept.smtp_password == "kept"
