"""The address a login attempt came from, for django-axes' lockouts.

Behind LOGIN_PROXY_COUNT reverse proxies, each proxy appends the address it was
connected from to X-Forwarded-For, so the client is the LOGIN_PROXY_COUNT-th entry
from the right; anything to its left was written by the client and is ignored. (The
same rule as Werkzeug's ProxyFix. django-ipware's proxy count expects the proxies to
list themselves and gives no address otherwise, which would lump every client
together.)
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def login_client_address(request: HttpRequest) -> str:
    proxies = settings.LOGIN_PROXY_COUNT
    if proxies <= 0:
        return request.META.get("REMOTE_ADDR", "")
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        # Fewer entries than proxies: the request skipped a proxy; use the connection.
        return request.META.get("REMOTE_ADDR", "")
    return forwarded[-proxies]
