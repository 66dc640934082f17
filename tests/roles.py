"""Users in the roles of jengu/access/roles.py, for tests of who may do what."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

ROLE_NAMES = ("Viewer", "Sales", "Operator")


def role_user(role: str | None, *, username: str = "", staff: bool = False, password: str = ""):
    """An active user in `role` (None: no role at all); `staff` lets them open /admin/."""
    name = username or f"{(role or 'norole').lower()}-user"
    user = get_user_model().objects.create_user(name, password=password or None, is_staff=staff)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user
