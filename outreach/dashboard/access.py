"""Who may see and do what on the dashboard: one Django permission per page and action.

The roles (Viewer, Sales, Operator; see jengu/access/roles.py) are groups of these
permissions. Anonymous visitors go to the login page; a signed-in user without the
permission gets 403 with a page that names the roles.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def dashboard_view(permission: str) -> Callable:
    """Login, then `permission` (else 403); a BadRequest becomes a 400 page saying why."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied(f"This needs the permission {permission}.")
            try:
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                context = {"reason": str(exc)}
                return render(request, "dashboard/bad_request.html", context, status=400)

        return login_required(checked)

    return decorator
