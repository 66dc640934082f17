"""Create, check and revoke API keys. The full key is shown once and never stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from jengu.apikeys.models import ApiKey
from jengu.apikeys.scopes import ALL_SCOPES, READ, scopes_clean

KEY_PREFIX = "jk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8
# Recording use on every request would turn each read into a write; a minute's
# precision is all an operator needs to spot a stale key.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    key: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(
    *, name: str, scopes: list[str] | None = None, read_only: bool = False
) -> NewApiKey:
    """Create a key; the returned plain `key` is the only copy there will ever be.

    `scopes` default to every scope (what keys could always do); `read_only` is
    short for `scopes=["read"]`. Raises ValueError for an unknown scope.
    """
    if read_only:
        scopes = [READ]
    scopes = scopes_clean(list(ALL_SCOPES) if scopes is None else scopes)
    for _ in range(3):
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    name=name[:100],
                    prefix=key[:PREFIX_LENGTH],
                    key_hash=_digest(key),
                    scopes=scopes,
                )
            return NewApiKey(api_key=api_key, key=key)
        except IntegrityError:
            continue  # prefix collision (48 random bits): draw another key
    raise RuntimeError("could not create a unique API key prefix")


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The active key matching `key`, or None. Compares digests in constant time."""
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        return None
    api_key = ApiKey.objects.filter(prefix=key[:PREFIX_LENGTH], revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _digest(key)):
        return None
    api_key_touch(api_key=api_key)
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once per LAST_USED_PRECISION."""
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_PRECISION:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


def api_keys_revoke(*, api_keys) -> int:
    """Revoke keys at once (the next request with them gets 401); return how many."""
    return api_keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
