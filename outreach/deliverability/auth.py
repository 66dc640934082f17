"""Checking an inbox's authentication, the first-touch gate it drives, and its override.

An inbox whose domain aligns neither SPF nor DKIM fails DMARC: Gmail, Yahoo and
Microsoft refuse or junk such mail, and every refusal costs reputation. So it
sends no first touches until a check passes (follow-ups in running threads go on)
— unless an operator overrides the gate, which is logged with who, when and why.
A check that could not reach DNS changes nothing: an outage neither closes nor
opens the gate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from crm.errors import InvalidInput
from crm.models import Inbox
from jengu.alerts import alert
from jengu.dns import Resolver, get_resolver
from outreach.deliverability_models import DeliverabilityLog, InboxDeliverability, ProviderPreset
from outreach.sending import dkim
from outreach.sending.deliverability_log import deliverability_log

from .auth_checks import inbox_auth_report
from .findings import ERROR

logger = logging.getLogger(__name__)
Kind = DeliverabilityLog.Kind
SETTINGS_FIELDS = ("provider_preset", "dkim_selector", "dkim_sign", "dkim_private_key")


def inbox_deliverability_get(*, inbox: Inbox) -> InboxDeliverability:
    row, _ = InboxDeliverability.objects.get_or_create(inbox=inbox)
    return row


def _row_locked(inbox: Inbox) -> InboxDeliverability:
    row = inbox_deliverability_get(inbox=inbox)
    return InboxDeliverability.objects.select_for_update().get(pk=row.pk)


def _gate(row: InboxDeliverability) -> bool:
    report = row.auth_report or {}
    fails = bool(report) and not (report.get("spf_aligned") or report.get("dkim_aligned"))
    return fails and not row.auth_override


def _dns_failed(report: dict) -> bool:
    return any(
        f["status"] == ERROR and f["check"] in ("spf", "dkim") for f in report.get("findings", ())
    )


@transaction.atomic
def inbox_auth_check(
    *, inbox: Inbox, actor: str = "rule:schedule", resolver: Resolver | None = None
) -> InboxDeliverability:
    """Check the inbox's domain now, store the report and set the first-touch gate."""
    report = inbox_auth_report(inbox=inbox, resolver=resolver or get_resolver()).as_dict()
    row = _row_locked(inbox)
    row.auth_checked_at = timezone.now()
    if _dns_failed(report):
        row.auth_status = ERROR
        row.auth_report = {**(row.auth_report or {}), "last_error": report}
        row.save(update_fields=["auth_status", "auth_report", "auth_checked_at", "updated_at"])
        return row
    was_blocked = row.first_touch_blocked
    row.auth_status, row.auth_report = report["status"], report
    row.first_touch_blocked = _gate(row)
    row.save()
    deliverability_log(
        kind=Kind.AUTH_CHECKED, actor=actor, inbox=inbox, detail=_summary(report, row)
    )
    if row.first_touch_blocked and not was_blocked:
        transaction.on_commit(lambda: _alert_blocked(inbox, report))
    return row


def _summary(report: dict, row: InboxDeliverability) -> str:
    parts = [f"{f['check']} {f['status']}" for f in report["findings"]]
    gate = "first touches blocked" if row.first_touch_blocked else "first touches allowed"
    return f"{report['domain']}: {', '.join(parts)}; {gate}"


def _alert_blocked(inbox: Inbox, report: dict) -> None:
    fixes = "; ".join(f["fix"] for f in report["findings"] if f["check"] in ("spf", "dkim"))
    alert(
        "inbox_auth_failed",
        f"Inbox {inbox.email} sends no first touches: its domain aligns neither SPF nor DKIM. "
        f"{fixes}",
        dedup_key=f"inbox-auth:{inbox.pk}",
    )


@transaction.atomic
def inbox_auth_override(*, inbox: Inbox, enabled: bool, actor: str, note: str = "") -> bool:
    """Let first touches go despite failing checks (or take that back); logged."""
    row = _row_locked(inbox)
    if enabled and not note.strip():
        raise InvalidInput("note", "say why the checks may be ignored")
    row.auth_override = enabled
    row.auth_override_by = actor[:150] if enabled else ""
    row.auth_override_at = timezone.now() if enabled else None
    row.auth_override_note = note.strip()[:500] if enabled else ""
    row.first_touch_blocked = _gate(row)
    row.save()
    kind = Kind.OVERRIDE_SET if enabled else Kind.OVERRIDE_CLEARED
    what = f"authentication override {'on' if enabled else 'off'} for {inbox.email}"
    deliverability_log(kind=kind, actor=actor, inbox=inbox, detail=f"{what}: {note}".strip(": "))
    logger.warning("%s by %s", what, actor)
    return row.first_touch_blocked


def _clean_settings(row: InboxDeliverability, data: Mapping[str, Any]) -> list[str]:
    changed = []
    for name in SETTINGS_FIELDS:
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if name == "dkim_private_key":
            if not value:
                continue  # write-only: a blank keeps the stored key
            try:
                dkim.private_key_check(value)
            except dkim.DkimKeyError as exc:
                raise InvalidInput(name, str(exc)) from None
        if name == "provider_preset" and value not in ProviderPreset.values:
            raise InvalidInput(name, f"choose one of {', '.join(ProviderPreset.values)}")
        setattr(row, name, value.strip() if isinstance(value, str) else value)
        changed.append(name)
    return changed


@transaction.atomic
def inbox_deliverability_update(
    *, inbox: Inbox, data: Mapping[str, Any], actor: str, generate_key: bool = False
) -> InboxDeliverability:
    """Preset and DKIM settings; `generate_key` makes a fresh 2048-bit signing key."""
    row = inbox_deliverability_get(inbox=inbox)
    changed = _clean_settings(row, data)
    if generate_key:
        row.dkim_private_key = dkim.private_key_generate()
        changed.append("dkim_private_key (generated)")
    if row.dkim_sign and not row.dkim_private_key:
        raise InvalidInput("dkim_private_key", "DKIM signing needs a private key")
    if row.dkim_sign and not row.dkim_selector:
        raise InvalidInput("dkim_selector", "DKIM signing needs a selector")
    row.save()
    if changed:
        detail = f"{inbox.email}: {', '.join(sorted(changed))} changed"
        deliverability_log(kind=Kind.SETTINGS_CHANGED, actor=actor, inbox=inbox, detail=detail)
    return row
