"""The region of an e-mail: its prospect's (docs/scaling.md, "Regions")."""

from __future__ import annotations

from typing import Any

from crm.models import Prospect
from crm.regions import place_region, prospect_region
from jengu.regions import default_region, regions_enabled
from jengu.sql import fetch_row
from outreach.models import EmailMessage

_MESSAGE_PLACE_SQL = f"""
SELECT p.timezone, p.city, p.country
FROM {EmailMessage._meta.db_table} AS m JOIN {Prospect._meta.db_table} AS p ON p.id = m.prospect_id
WHERE m.id = %s
"""  # noqa: S608 - table names from the models


def region_of_message_event(payload: dict[str, Any]) -> str | None:
    """The region of an event about `payload["message_id"]` (one query)."""
    row = fetch_row(_MESSAGE_PLACE_SQL, [payload["message_id"]])
    return place_region(*row) if row is not None else default_region()


def message_region(message: EmailMessage) -> str | None:
    """The region of `message`, without a query when its prospect is loaded."""
    if not regions_enabled():
        return None
    if EmailMessage.prospect.is_cached(message):
        return prospect_region(message.prospect)
    return region_of_message_event({"message_id": message.pk})
