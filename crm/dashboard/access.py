"""Who may see what: sales pages need a login, system pages and resets need staff."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, user_passes_test

sales_required = login_required


def staff_required(view):
    """Staff only; a signed-in non-staff user gets 403 rather than a login loop."""

    def check(user) -> bool:
        if user.is_authenticated and not user.is_staff:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("System pages are for staff.")
        return user.is_authenticated

    return user_passes_test(check)(view)
