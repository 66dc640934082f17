"""Public pages of the outreach app: the unsubscribe confirmation and one-click opt-out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from outreach.unsubscribe import InvalidToken, email_unsubscribe, unsubscribe_email_from_token


# No CSRF, cookies or login: mail providers POST here on the recipient's behalf
# (RFC 8058 one-click), and the signed token is the only credential needed.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for confirmation and changes nothing (link scanners fetch every URL);
    POST unsubscribes at once."""
    try:
        email = unsubscribe_email_from_token(token)
    except InvalidToken as exc:
        return render(request, "outreach/unsubscribe_invalid.html", {"error": str(exc)}, status=400)
    if request.method == "GET":
        return render(request, "outreach/unsubscribe_confirm.html", {"email": email})
    email_unsubscribe(email=email, source="link")
    return render(request, "outreach/unsubscribe_done.html", {"email": email})
