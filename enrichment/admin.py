"""Enrichment in the Prospect admin: the "Enrich selected prospects" action and a
read-only view of what enrichment found and why (mixed into the Prospect admin,
`outreach.dashboard.admin.ProspectAdmin`).

Everything shown comes from scraped websites, so it is escaped (`format_html`).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from crm.models import Prospect
from crm.services import prospects_enqueue_enrichment


def _table(headers: tuple[str, ...], rows: list[tuple]) -> SafeString:
    if not rows:
        return mark_safe("<p>—</p>")  # noqa: S308 - a constant
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _website(data: dict) -> SafeString:
    site = data.get("website")
    if not site:
        return format_html("<p>No website found.</p>")
    return format_html(
        "<p><b>{}</b> — found by {} (confidence {}): {}</p>",
        site["url"], site["method"], site["confidence"], site["evidence"],
    )  # fmt: skip


def _candidates(data: dict) -> SafeString:
    verdicts = data.get("validation", {})
    rows = []
    for c in data.get("candidates", []):
        verdict = verdicts.get(c["email"], {})
        status = verdict.get("status", "not validated")
        rows.append((c["email"], c["kind"], c["source"], c.get("page", ""), status,
                     verdict.get("reason", "")))  # fmt: skip
    headers = ("address", "kind", "found as", "page", "status", "why")
    return _table(headers, rows)


def findings_html(data: dict) -> SafeString:
    if not data:
        return format_html("<p>{}</p>", "Not enriched yet.")
    chosen = data.get("chosen") or {}
    parts = [
        format_html("<p>{}</p>", data.get("summary", "")),
        _website(data),
        format_html(
            "<p>Chosen address: <b>{}</b> ({}) — {}</p>",
            chosen.get("email") or "none",
            chosen.get("status", "pending"),
            chosen.get("reason", ""),
        ),  # fmt: skip
        format_html("<h4>Candidates</h4>{}", _candidates(data)),
        format_html(
            "<h4>Rejected</h4>{}",
            _table(
                ("address", "page", "why"),
                [(r["email"], r.get("page", ""), r["reason"]) for r in data.get("rejected", [])],
            ),
        ),  # fmt: skip
        format_html(
            "<h4>Website attempts</h4>{}",
            _table(
                ("url", "method", "outcome"),
                [(a["url"], a["method"], a["outcome"]) for a in data.get("website_attempts", [])],
            ),
        ),  # fmt: skip
        format_html(
            "<h4>Pages read</h4>{}",
            _table(("url", "outcome"), [(p["url"], p["outcome"]) for p in data.get("pages", [])]),
        ),  # fmt: skip
    ]
    if data.get("skips"):
        rows = [(s["at"], s["reason"]) for s in data["skips"]]
        parts.append(format_html("<h4>Skipped runs</h4>{}", _table(("at", "reason"), rows)))
    return format_html_join("", "{}", ((part,) for part in parts))


class ProspectEnrichmentAdminMixin:
    """Add to ProspectAdmin: action `enrich_selected`, read-only `enrichment_findings`."""

    @admin.action(description="Enrich selected prospects", permissions=["change"])
    def enrich_selected(self, request: HttpRequest, queryset: QuerySet[Prospect]) -> None:
        result = prospects_enqueue_enrichment(prospects=queryset.only("id", "stage"))
        self.message_user(
            request,
            f"Queued {len(result.queued)} prospects for enrichment: workers fill in websites, "
            f"addresses and statuses in the background. {len(result.skipped)} skipped "
            "(their stage is past enrichment).",
            messages.SUCCESS,
        )

    @admin.display(description="Findings")
    def enrichment_findings(self, obj: Prospect) -> SafeString:
        return findings_html(obj.enrichment or {})
