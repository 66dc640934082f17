"""Model fields shared by the apps."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(f"jengu-field-encryption:{key_material}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _cipher() -> Fernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY)


class EncryptedTextField(models.TextField):
    """Text stored encrypted at rest (Fernet); plain text in Python.

    Used for SMTP/IMAP passwords and ESP keys. The database, a dump or a
    backup holds only ciphertext. The key is FIELD_ENCRYPTION_KEY, else one
    derived from SECRET_KEY.
    """

    def get_prep_value(self, value: str | None) -> str | None:
        if value in (None, ""):
            return value
        return _cipher().encrypt(str(value).encode()).decode()

    def from_db_value(self, value: str | None, expression, connection) -> str | None:
        if value in (None, ""):
            return value
        try:
            return _cipher().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                f"{self.name}: cannot decrypt; was FIELD_ENCRYPTION_KEY/SECRET_KEY changed?"
            ) from exc
