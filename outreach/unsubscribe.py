"""Unsubscribe links: signed tokens naming an address, and the one-click opt-out.

The token is the address signed with SECRET_KEY (django.core.signing), so links
never expire and cannot be forged or altered to unsubscribe someone else.
"""

from __future__ import annotations

from django.core import signing
from django.db import transaction
from django.urls import reverse

from crm.models import Prospect, Stage
from crm.services import prospect_move_if_allowed
from outreach.models import Suppression
from outreach.suppression import prospects_suppress, suppression_add

SALT = "jengu.unsubscribe"


class InvalidToken(ValueError):
    pass


def unsubscribe_token(*, email: str) -> str:
    return signing.dumps(email.strip().lower(), salt=SALT, compress=True)


def unsubscribe_email_from_token(token: str) -> str:
    """The address a token names; raises InvalidToken if it was altered or made up."""
    try:
        email = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise InvalidToken("this unsubscribe link is not valid") from exc
    if not isinstance(email, str) or "@" not in email:
        raise InvalidToken("this unsubscribe link is not valid")
    return email


def unsubscribe_url(*, email: str, base_url: str) -> str:
    path = reverse("outreach:unsubscribe", kwargs={"token": unsubscribe_token(email=email)})
    return f"{base_url.rstrip('/')}{path}"


@transaction.atomic
def email_unsubscribe(*, email: str, source: str) -> int:
    """Suppress `email`, stop its sequences and mark its prospects unsubscribed.

    Idempotent: a second click (or a mail client's retry) changes nothing more.
    Returns the number of prospects with that address.
    """
    suppression_add(value=email, kind=Suppression.Kind.EMAIL, reason="unsubscribed", source=source)
    prospects = list(Prospect.objects.filter(email__iexact=email))
    prospects_suppress(prospects=prospects, reason="unsubscribed", source=source)
    for prospect in prospects:
        prospect_move_if_allowed(
            prospect=prospect,
            to_stage=Stage.UNSUBSCRIBED,
            changed_by=f"unsubscribe:{source}",
            reason="opted out through the unsubscribe link",
        )
    return len(prospects)
