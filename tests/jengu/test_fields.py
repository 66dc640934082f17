"""Secrets stored with EncryptedTextField are ciphertext in the database."""

import pytest
from django.db import connection

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
