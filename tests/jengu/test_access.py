"""Roles stay what the docs say; logins are throttled per username and address."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from jengu.access.client_ip import login_client_address
from jengu.access.roles import ROLES
from tests.roles import role_user

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def permission_names(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_each_role_group_has_exactly_its_documented_permissions():
    for role in ROLES:
        assert permission_names(Group.objects.get(name=role.name)) == set(role.permissions)


def test_roles_grow_from_viewer_to_operator():
    viewer, sales, operator = (set(role.permissions) for role in ROLES)

    assert viewer < sales < operator
    assert not any(name.split(".")[1].startswith(("add_", "change_", "delete_")) for name in viewer)


def test_sync_roles_puts_a_changed_group_back():
    sales = Group.objects.get(name="Sales")
    sales.permissions.add(Permission.objects.get(codename="delete_inbox"))
    sales.permissions.remove(Permission.objects.get(codename="change_pendingapproval"))
    out = StringIO()

    call_command("sync_roles", stdout=out)

    assert permission_names(sales) == set(ROLES[1].permissions)
    assert "Sales:" in out.getvalue()


def test_sync_roles_recreates_a_deleted_group():
    Group.objects.filter(name="Viewer").delete()

    call_command("sync_roles", stdout=StringIO())

    assert permission_names(Group.objects.get(name="Viewer")) == set(ROLES[0].permissions)


def test_a_superuser_keeps_every_power_without_a_role(admin_client):
    assert admin_client.get("/system/").status_code == 200
    assert admin_client.get("/review/").status_code == 200


# --- login throttling -------------------------------------------------------------


def sign_in(client: Client, username: str, password: str, path: str = "/login/", **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def test_five_wrong_passwords_lock_that_username_from_that_address(client, settings):
    role_user("Sales", username="sam", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "sam", "guess").status_code == 200  # the form again

    locked = sign_in(client, "sam", "guess")
    after = sign_in(client, "sam", PASSWORD)

    assert locked.status_code == 429
    assert after.status_code == 429, "the right password does not get through a lockout"
    assert "Too many failed sign-ins" in after.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_lockout_touches_neither_other_users_nor_other_addresses(client, settings):
    role_user("Sales", username="sam", password=PASSWORD)
    role_user("Sales", username="ana", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "sam", "guess")

    other_user = sign_in(Client(), "ana", PASSWORD)
    other_address = sign_in(Client(REMOTE_ADDR="203.0.113.9"), "sam", PASSWORD)

    assert other_user.status_code == 302
    assert other_address.status_code == 302


def test_a_successful_login_resets_the_count(client, settings):
    role_user("Sales", username="sam", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "sam", "guess")
    assert sign_in(client, "sam", PASSWORD).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "sam", "guess")

    assert sign_in(client, "sam", PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(client, settings):
    role_user("Operator", username="ops", password=PASSWORD, staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ops", "guess", path="/admin/login/")

    assert sign_in(client, "ops", PASSWORD, path="/admin/login/").status_code == 429


def test_behind_a_proxy_the_forwarded_client_address_is_the_one_locked(client, settings):
    settings.LOGIN_PROXY_COUNT = 1
    role_user("Sales", username="sam", password=PASSWORD)
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # The attacker writes a new address in front each time; the proxy appends the real one.
        forwarded = f"198.51.100.{attempt}, 203.0.113.7"
        sign_in(client, "sam", "guess", HTTP_X_FORWARDED_FOR=forwarded, **proxy)

    attacker = sign_in(client, "sam", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    colleague = sign_in(Client(), "sam", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.50", **proxy)

    assert attacker.status_code == 429
    assert colleague.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.2"),
    ],
)
def test_the_client_address_is_counted_from_the_right(rf, settings, proxies, forwarded, expected):
    settings.LOGIN_PROXY_COUNT = proxies
    request = rf.post("/login/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.2")

    assert login_client_address(request) == expected
