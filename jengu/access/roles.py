"""The roles a sales team needs, as Django groups of permissions.

Viewer reads, Sales works the pipeline, Operator runs the system; a superuser is the
admin. The groups are created by a data migration and brought back to exactly these
permissions after every `migrate` and by `manage.py sync_roles`, so a role always
means what docs/security.md says. Give other mixes their own groups.

Permissions are named as strings ("app_label.codename"), so this bottom-layer module
needs no import from the apps that own the models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

logger = logging.getLogger(__name__)


def _crud(model: str, *actions: str) -> tuple[str, ...]:
    app_label, name = model.split(".")
    return tuple(f"{app_label}.{action}_{name}" for action in actions)


VIEWER_PERMISSIONS = (
    *_crud("crm.prospect", "view"),
    *_crud("crm.campaign", "view"),
    *_crud("crm.campaignstep", "view"),
    *_crud("crm.enrollment", "view"),
    *_crud("crm.stagechange", "view"),
    *_crud("crm.inbox", "view"),
    *_crud("outreach.emailmessage", "view"),
    *_crud("outreach.pendingapproval", "view"),
    *_crud("outreach.inboundemail", "view"),
    *_crud("outreach.suppression", "view"),
    # Deliverability: inbox health, placement, send-time and A/B results.
    *_crud("outreach.inboxdeliverability", "view"),
    *_crud("outreach.placementtest", "view"),
    *_crud("outreach.campaignoptimisation", "view"),
    *_crud("outreach.variantpromotion", "view"),
)
SALES_PERMISSIONS = (
    *VIEWER_PERMISSIONS,
    *_crud("crm.prospect", "add", "change"),
    *_crud("crm.campaign", "add", "change"),
    *_crud("crm.campaignstep", "add", "change", "delete"),
    *_crud("crm.enrollment", "add", "change"),
    # Review: edit, approve (which sends) and reject composed e-mails.
    *_crud("outreach.pendingapproval", "change"),
    # Relabel replies and mark them handled.
    *_crud("outreach.inboundemail", "change"),
    *_crud("outreach.suppression", "add"),
    # Send-time optimisation and A/B promotion of their campaigns.
    *_crud("outreach.campaignoptimisation", "add", "change"),
    *_crud("outreach.variantpromotion", "add", "change"),
)
OPERATOR_PERMISSIONS = (
    *SALES_PERMISSIONS,
    *_crud("crm.prospect", "delete"),
    *_crud("crm.campaign", "delete"),
    *_crud("crm.enrollment", "delete"),
    *_crud("crm.inbox", "add", "change", "delete"),
    # Resolve messages whose delivery is uncertain (mark sent, or send again).
    *_crud("outreach.emailmessage", "change"),
    *_crud("outreach.suppression", "change", "delete"),
    *_crud("outreach.aicall", "view", "change"),
    # Inbox authentication (checks, the override), seed mailboxes, the deliverability log.
    *_crud("outreach.inboxdeliverability", "change"),
    *_crud("outreach.seedmailbox", "view", "add", "change", "delete"),
    *_crud("outreach.deliverabilitylog", "view"),
    *_crud("events.event", "view"),
    *_crud("events.deadletter", "view", "change"),
    "events.view_system",
    "events.reset_breaker",
    *_crud("apikeys.apikey", "view", "add", "change"),
    *_crud("apikeys.webhooksubscription", "view", "add", "change", "delete"),
    *_crud("apikeys.webhookdelivery", "view"),
    # See and lift login lockouts.
    *_crud("axes.accessattempt", "view", "delete"),
    *_crud("axes.accessfailurelog", "view"),
)


@dataclass(frozen=True)
class Role:
    name: str
    permissions: tuple[str, ...]


ROLES = (
    Role("Viewer", VIEWER_PERMISSIONS),
    Role("Sales", SALES_PERMISSIONS),
    Role("Operator", OPERATOR_PERMISSIONS),
)


def _permissions(permission_model: type[Permission], names: tuple[str, ...]) -> list:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(permission_model.objects.filter(query).select_related("content_type"))


def roles_sync(
    *, group_model: type[Group] = Group, permission_model: type[Permission] = Permission
) -> list[str]:
    """Create the role groups and set each one's permissions to exactly its list.

    Returns the permissions that do not exist (yet), which are skipped. The model
    arguments let the data migration pass its historical models.
    """
    missing: list[str] = []
    for role in ROLES:
        group, _ = group_model.objects.get_or_create(name=role.name)
        found = _permissions(permission_model, role.permissions)
        names = {f"{p.content_type.app_label}.{p.codename}" for p in found}
        missing.extend(name for name in role.permissions if name not in names)
        group.permissions.set(found)
    return sorted(set(missing))


def roles_sync_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate: keep the groups current as apps add permissions."""
    missing = roles_sync()
    if missing:
        logger.warning("roles: permissions not found (not migrated yet?): %s", missing)
