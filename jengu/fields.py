"""Model fields shared by the apps, and the rotation of their encryption keys."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import TextField, Value


def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(f"jengu-field-encryption:{key_material}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encryption_key_materials() -> tuple[str, ...]:
    """FIELD_ENCRYPTION_KEY's comma-separated keys, newest first; else SECRET_KEY."""
    keys = tuple(key.strip() for key in settings.FIELD_ENCRYPTION_KEY.split(",") if key.strip())
    return keys or (settings.SECRET_KEY,)


@lru_cache(maxsize=4)
def _multi_fernet(materials: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(material) for material in materials])


def _cipher() -> MultiFernet:
    """Encrypts with the first key; decrypts with any of them (MultiFernet)."""
    return _multi_fernet(encryption_key_materials())


class EncryptedTextField(models.TextField):
    """Text stored encrypted at rest (Fernet); plain text in Python.

    Used for SMTP/IMAP passwords, ESP keys and webhook secrets. The database, a dump
    or a backup holds only ciphertext. Keys: FIELD_ENCRYPTION_KEY (several, comma-
    separated, for rotation), else one derived from SECRET_KEY.
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
                f"{self.name}: cannot decrypt with any FIELD_ENCRYPTION_KEY "
                "(was a key removed, or SECRET_KEY changed?)"
            ) from exc


@dataclass
class RotationReport:
    rotated: int = 0
    current: int = 0
    # "app_label.Model.field #pk" of values no configured key can decrypt.
    unreadable: list[str] = field(default_factory=list)


def _encrypted_fields() -> list[tuple[type[models.Model], str]]:
    return [
        (model, model_field.name)
        for model in apps.get_models()
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, EncryptedTextField)
    ]


def _rotate_value(token: str, report: RotationReport, where: str) -> str | None:
    """The token re-encrypted with the first key, or None when nothing is to be written."""
    cipher = _cipher()
    try:
        _fernet(encryption_key_materials()[0]).decrypt(token.encode())
        report.current += 1
        return None
    except InvalidToken:
        pass
    try:
        rotated = cipher.rotate(token.encode()).decode()
    except InvalidToken:
        report.unreadable.append(where)
        return None
    report.rotated += 1
    return rotated


def encrypted_fields_rotate(*, dry_run: bool = False, batch: int = 500) -> RotationReport:
    """Re-encrypt every stored secret with the first FIELD_ENCRYPTION_KEY.

    Values already under that key are left alone, so a second run (or one after a
    crash) only does what is left. A value no key can read is reported, not lost.
    """
    report = RotationReport()
    for model, name in _encrypted_fields():
        # The raw column: the field would decrypt on read and encrypt on write.
        rows = (
            model._base_manager.exclude(**{name: ""})
            .exclude(**{f"{name}__isnull": True})
            .annotate(token=models.functions.Cast(name, TextField()))
            .values_list("pk", "token")
        )
        for pk, token in rows.iterator(chunk_size=batch):
            where = f"{model._meta.label}.{name} #{pk}"
            rotated = _rotate_value(token, report, where)
            if rotated is not None and not dry_run:
                with transaction.atomic():
                    model._base_manager.filter(pk=pk).update(
                        **{name: Value(rotated, output_field=TextField())}
                    )
    return report
