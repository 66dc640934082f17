"""DKIM keys: reading a published key record, making and checking our own signing keys,
and signing outgoing e-mail with dkimpy for inboxes whose relay does not sign (SMTP
only: Resend signs with the domain's own key)."""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from functools import lru_cache

import dkim
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from crm.models import Inbox

from .presets import inbox_settings

logger = logging.getLogger(__name__)

# Receivers ignore RSA keys under 1024 bits; 2048 is what every provider now advises.
MIN_BITS = 1024
GOOD_BITS = 2048
# Headers we sign: those a forwarder must not change, plus our own reference header.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


class DkimKeyError(ValueError):
    """A private key we cannot sign with, in words an operator can act on."""


@dataclass(frozen=True)
class PublishedKey:
    kind: str  # "rsa" | "ed25519"
    bits: int
    public: bytes  # the p= value, decoded (DER SubjectPublicKeyInfo for RSA)
    revoked: bool = False
    error: str = ""


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        name, _, value = part.partition("=")
        if name.strip():
            tags[name.strip().lower()] = "".join(value.split())
    return tags


def published_key_parse(record: str) -> PublishedKey:
    """A DKIM key record ("v=DKIM1; k=rsa; p=…") as its kind and length."""
    tags = _tags(record)
    kind = tags.get("k", "rsa").lower()
    if not tags.get("p"):
        return PublishedKey(kind, 0, b"", revoked=True)
    try:
        public = base64.b64decode(tags["p"], validate=True)
    except (binascii.Error, ValueError):
        return PublishedKey(kind, 0, b"", error="p= is not base64")
    if kind == "ed25519":
        return PublishedKey(kind, len(public) * 8, public)
    try:
        key = serialization.load_der_public_key(public)
    except (ValueError, UnsupportedAlgorithm):
        return PublishedKey(kind, 0, public, error="p= is not an RSA public key")
    bits = key.key_size if isinstance(key, rsa.RSAPublicKey) else 0
    return PublishedKey(kind, bits, public, error="" if bits else "p= is not an RSA public key")


def _private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise DkimKeyError("not a PEM private key without a passphrase") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DkimKeyError("only RSA signing keys are supported")
    if key.key_size < MIN_BITS:
        raise DkimKeyError(f"an RSA key of {key.key_size} bits is too short (use {GOOD_BITS})")
    return key


def private_key_check(pem: str) -> int:
    """The key's length in bits; raises DkimKeyError when it cannot sign."""
    return _private_key(pem).key_size


def private_key_generate(bits: int = GOOD_BITS) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_der(pem: str) -> bytes:
    return (
        _private_key(pem)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def dns_record_for(pem: str) -> str:
    """The TXT record to publish at <selector>._domainkey.<domain> for this key."""
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public_der(pem)).decode()}"


@lru_cache(maxsize=64)
def _pkcs1(pem: str) -> bytes:
    # dkimpy reads PKCS#1 ("RSA PRIVATE KEY"); operators paste PKCS#8 as often.
    return _private_key(pem).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def message_sign(raw: bytes, *, selector: str, domain: str, private_pem: str) -> bytes:
    """`raw` with a DKIM-Signature header (relaxed/relaxed, rsa-sha256) in front."""
    signature = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        _pkcs1(private_pem),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=list(SIGNED_HEADERS),
    )
    return signature + raw


def outgoing_sign(*, inbox: Inbox, raw: bytes) -> bytes:
    """`raw` signed with the inbox's key when it has signing on; else unchanged.

    A key that fails to sign (it was checked when saved, so this means a damaged
    key) is logged and the e-mail goes unsigned: SPF may still carry it, and a
    stuck send queue helps nobody.
    """
    row = inbox_settings(inbox)
    if not (row and row.dkim_sign and row.dkim_private_key and row.dkim_selector):
        return raw
    domain = inbox.email.rpartition("@")[2].lower()
    try:
        return message_sign(
            raw, selector=row.dkim_selector, domain=domain, private_pem=row.dkim_private_key
        )
    except (dkim.DKIMException, DkimKeyError) as exc:
        logger.error("inbox %s: DKIM signing failed, sending unsigned: %s", inbox.pk, exc)
        return raw
