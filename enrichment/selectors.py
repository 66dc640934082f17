"""Reads of enrichment findings, shaped for the API and the dashboard."""

from __future__ import annotations

from crm.models import Prospect


def prospect_enrichment_summary(*, prospect: Prospect) -> dict:
    """What enrichment found and why, without the crawl's raw detail.

    `{"summary", "enriched_at", "website": {url, method, confidence, evidence} | None,
    "chosen": {email, status, reason} | None, "candidates": [{email, kind, source, page,
    status, reason}], "skips": [...]}`; an empty dict when the prospect was never enriched.
    """
    data = prospect.enrichment or {}
    if not data:
        return {}
    verdicts = data.get("validation", {})
    return {
        "summary": data.get("summary", ""),
        "enriched_at": data.get("enriched_at"),
        "website": data.get("website"),
        "chosen": data.get("chosen"),
        "candidates": [
            {
                "email": c["email"],
                "kind": c["kind"],
                "source": c["source"],
                "page": c.get("page", ""),
                "status": verdicts.get(c["email"], {}).get("status", "not_validated"),
                "reason": verdicts.get(c["email"], {}).get("reason", ""),
            }
            for c in data.get("candidates", [])
        ],
        "skips": data.get("skips", []),
    }
