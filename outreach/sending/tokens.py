"""A reference token in every e-mail we send, so a report can prove which one it is about.

`jb-<message pk>-<signature>`: the signature is an HMAC (keyed by SECRET_KEY) of the
message's primary key and its recipient, so nobody can mint a token for an address
we did not write to. It travels in the `X-Jengu-Ref` header (bounces and complaint
reports quote our headers) and, with BOUNCE_VERP_ENABLED, in the envelope sender
(`inbox+jb-…@domain`), which a bounce is addressed to even when it quotes nothing.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

HEADER = "X-Jengu-Ref"
_SALT = "jengu.outreach.reference-token"
_SIGNATURE_CHARS = 16
TOKEN = re.compile(r"\bjb-(\d{1,12})-([0-9a-f]{16})\b", re.IGNORECASE)
MAX_TOKENS = 10


@dataclass(frozen=True)
class Reference:
    message_pk: int
    signature: str


def _signature(message_pk: int, recipient: str, secret: str) -> str:
    value = f"{message_pk}:{recipient.strip().lower()}"
    return salted_hmac(_SALT, value, secret=secret, algorithm="sha256").hexdigest()[
        :_SIGNATURE_CHARS
    ]


def reference_token(*, message_pk: int, recipient: str) -> str:
    return f"jb-{message_pk}-{_signature(message_pk, recipient, settings.SECRET_KEY)}"


def reference_valid(*, reference: Reference, recipient: str) -> bool:
    """Was this token made by us for `recipient`? (Old keys count: SECRET_KEY_FALLBACKS.)"""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        hmac.compare_digest(reference.signature, _signature(reference.message_pk, recipient, key))
        for key in secrets
    )


def references_in(text: str) -> list[Reference]:
    """Tokens found in a report's headers and quoted text, first ones first."""
    found = []
    for match in TOKEN.finditer(text):
        reference = Reference(int(match.group(1)), match.group(2).lower())
        if reference not in found:
            found.append(reference)
        if len(found) >= MAX_TOKENS:
            break
    return found


def verp_address(*, inbox_email: str, token: str) -> str:
    """The envelope sender that carries `token`: local+token@domain (RFC 5233 subaddress)."""
    local, _, domain = inbox_email.partition("@")
    return f"{local}+{token}@{domain}"
