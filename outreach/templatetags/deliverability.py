"""`{% inbox_deliverability inbox %}`: an inbox's authentication and health on its admin
page (crm's template includes it; crm itself never imports outreach)."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from crm.models import Inbox
from outreach.deliverability.selectors import inbox_summary

register = template.Library()


@register.simple_tag
def inbox_deliverability(inbox: Inbox | None) -> SafeString | str:
    if inbox is None or inbox.pk is None:
        return ""
    summary = inbox_summary(inbox)
    return render_to_string(
        "admin/outreach/inbox_deliverability_panel.html", {"summary": summary, "row": summary.row}
    )
