"""Create-or-update of prospects by natural key, shared by CSV import and the API.

The natural key is the e-mail (case-insensitive); a row without one is matched
by business name + city. Rows are cleaned first (`prospect_row_clean`), then
upserted a chunk at a time in one transaction (`prospects_upsert`), so a bad
row is reported and skipped without losing the others.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from crm.models import EmailStatus, Prospect
from jengu.errors import InputError

TEXT_FIELDS = {
    "business_name": 255,
    "contact_name": 255,
    "phone": 64,
    "city": 128,
    "industry": 128,
    "source": 64,
    "notes": 10_000,
}
UPSERT_FIELDS = (
    "business_name",
    "contact_name",
    "email",
    "website",
    "domain",
    "phone",
    "city",
    "country",
    "timezone",
    "industry",
    "tags",
    "notes",
    "email_status",
)


# A public host name: dot-separated labels and a letter TLD (no IPs, no localhost).
HOSTNAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
# The common shapes that need no full parsing. Everything these accept, the
# slow path (Django's `validate_email`, `urlsplit`) accepts alike; anything else
# goes down the slow path. Both run once per row of a 100k-row import.
PLAIN_EMAIL = re.compile(rf"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@{HOSTNAME.pattern}")
PLAIN_URL = re.compile(r"https?://([A-Za-z0-9.-]+)(?:/[!-~]*)?")
EMAIL_STATUSES = frozenset(EmailStatus.values)


class RowError(InputError):
    """A row that cannot be imported; the message is the reason shown to the user."""


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _clean_email(value: str) -> str:
    email = value.strip().lower()
    if email and not (len(email) <= 320 and PLAIN_EMAIL.fullmatch(email)):
        try:
            validate_email(email)
        except ValidationError:
            raise RowError(f"invalid e-mail {value!r}") from None
    return email


def _clean_website(value: str) -> tuple[str, str]:
    website = value.strip()
    if not website:
        return "", ""
    if "://" not in website:
        website = f"https://{website}"
    plain = PLAIN_URL.fullmatch(website)
    host = plain[1].lower() if plain else _url_host(website, value)
    if not HOSTNAME.fullmatch(host):
        raise RowError(f"invalid website {value!r}")
    return website[:500], host.removeprefix("www.")


def _url_host(website: str, value: str) -> str:
    try:
        parts = urlsplit(website)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise RowError(f"invalid website {value!r}") from None
    if parts.scheme not in ("http", "https"):
        raise RowError(f"invalid website {value!r}")
    return host


def _clean_country(value: str) -> str:
    country = value.strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise RowError(f"country must be an ISO 3166 alpha-2 code, got {value!r}")
    return country


def _clean_timezone(value: str) -> str:
    tz = value.strip()
    if tz and tz not in _timezones():
        raise RowError(f"unknown timezone {value!r} (use an IANA name such as Europe/Paris)")
    return tz


def _clean_tags(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        parts = [str(tag) for tag in value]
    else:
        parts = str(value or "").replace(";", ",").split(",")
    return sorted({tag.strip()[:64] for tag in parts if tag.strip()})


def _clean_email_status(value: str) -> str:
    status = value.strip().lower() or EmailStatus.UNKNOWN
    if status not in EMAIL_STATUSES:
        raise RowError(f"email_status must be one of {', '.join(EmailStatus.values)}")
    return status


def prospect_row_clean(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise one incoming row; raise RowError with the reason."""
    row: dict[str, Any] = {}
    for name, max_length in TEXT_FIELDS.items():
        value = str(raw.get(name) or "").strip()
        if len(value) > max_length:
            raise RowError(f"{name} is longer than {max_length} characters")
        row[name] = value
    if not row["business_name"]:
        raise RowError("business_name is required")
    row["email"] = _clean_email(str(raw.get("email") or ""))
    row["website"], row["domain"] = _clean_website(str(raw.get("website") or ""))
    if not row["domain"] and row["email"]:
        row["domain"] = row["email"].rpartition("@")[2]
    row["country"] = _clean_country(str(raw.get("country") or ""))
    row["timezone"] = _clean_timezone(str(raw.get("timezone") or ""))
    row["tags"] = _clean_tags(raw.get("tags"))
    row["email_status"] = _clean_email_status(str(raw.get("email_status") or ""))
    return row


def natural_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    if row["email"]:
        return ("email", row["email"])
    return ("name_city", row["business_name"].lower(), row["city"].lower())


@dataclass
class UpsertOutcome:
    status: str  # created | updated | unchanged
    prospect: Prospect


@dataclass
class UpsertSummary:
    outcomes: list[UpsertOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def _existing_by_key(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], Prospect]:
    existing: dict[tuple[str, ...], Prospect] = {}
    emails = [row["email"] for row in rows if row["email"]]
    for prospect in Prospect.objects.with_emails(emails):
        existing[("email", prospect.email.lower())] = prospect
    pairs = {natural_key(row)[1:] for row in rows if not row["email"]}
    if pairs:
        query = Q()
        for name, city in pairs:
            query |= Q(_name=name, _city=city)
        found = Prospect.objects.filter(email="").annotate(
            _name=Lower("business_name"), _city=Lower("city")
        )
        for prospect in found.filter(query).order_by("id"):
            existing.setdefault(("name_city", prospect._name, prospect._city), prospect)
    return existing


def _apply(prospect: Prospect, row: Mapping[str, Any]) -> bool:
    """Copy provided values onto an existing prospect; True if anything changed.

    Blank incoming values never erase what Jengu already knows (an import of a
    thinner file must not wipe enrichment results).
    """
    changed = False
    for name in UPSERT_FIELDS:
        value = row[name]
        if value in ("", [], None) or (name == "email_status" and value == EmailStatus.UNKNOWN):
            continue
        if getattr(prospect, name) != value:
            setattr(prospect, name, value)
            changed = True
    return changed


# Every concrete field in model order, for positional construction.
_FIELDS = tuple((field.attname, field) for field in Prospect._meta.concrete_fields)


def _new_prospect(row: Mapping[str, Any], source: str) -> Prospect:
    """An unsaved prospect from a cleaned row; other fields get their defaults.

    Built positionally, Django's fast path (the one `Model.from_db` takes):
    a third cheaper than keyword arguments, and an import builds 100k.
    """
    given = {name: row[name] for name in UPSERT_FIELDS}
    given["source"] = source
    return Prospect(
        *[given[name] if name in given else field.get_default() for name, field in _FIELDS]
    )


@transaction.atomic
def prospects_upsert(*, rows: Sequence[Mapping[str, Any]], source: str) -> UpsertSummary:
    """Upsert cleaned rows (see `prospect_row_clean`) whose natural keys are distinct."""
    existing = _existing_by_key(rows)
    summary = UpsertSummary()
    to_create: list[Prospect] = []
    to_update: list[Prospect] = []
    for row in rows:
        prospect = existing.get(natural_key(row))
        if prospect is None:
            prospect = _new_prospect(row, source)
            to_create.append(prospect)
            summary.outcomes.append(UpsertOutcome("created", prospect))
        elif _apply(prospect, row):
            to_update.append(prospect)
            summary.outcomes.append(UpsertOutcome("updated", prospect))
        else:
            summary.outcomes.append(UpsertOutcome("unchanged", prospect))
    prospects_insert(prospects=to_create)
    now = timezone.now()
    for prospect in to_update:
        prospect.updated_at = now
    prospects_update_columns(prospects=to_update, fields=[*UPSERT_FIELDS, "updated_at"])
    return summary


# Every column an inserted prospect gets; the rest keep their database defaults.
INSERT_COLUMNS = (
    "id",
    *UPSERT_FIELDS,
    "source",
    "stage",
    "enrichment",
    "score",
    "created_at",
    "updated_at",
)
JSON_COLUMNS = frozenset({"tags", "enrichment"})


def prospects_insert(*, prospects: Sequence[Prospect]) -> None:
    """Insert new prospects with `COPY`, giving each its primary key.

    `bulk_create` spends most of an import's time preparing parameters row by
    row in Python; COPY streams the rows instead (100k rows: about 2x faster).
    Ids are taken from the table's sequence first, so the instances get their
    primary keys without a second query.
    """
    if not prospects:
        return
    table = Prospect._meta.db_table
    quote = connection.ops.quote_name
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(prospects)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        columns = ", ".join(quote(name) for name in INSERT_COLUMNS)
        with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for pk, prospect in zip(ids, prospects, strict=True):
                prospect.pk, prospect.created_at, prospect.updated_at = pk, now, now
                copy.write_row(_column_values(prospect))
    for prospect in prospects:
        prospect._state.adding = False


def _column_values(prospect: Prospect) -> list[Any]:
    return [
        json.dumps(getattr(prospect, name)) if name in JSON_COLUMNS else getattr(prospect, name)
        for name in INSERT_COLUMNS
    ]


def prospects_update_columns(*, prospects: Sequence[Prospect], fields: Sequence[str]) -> None:
    """Write `fields` of many prospects with one `UPDATE … FROM (VALUES …)`.

    Django's `bulk_update` builds a CASE with one branch per row for every
    column, which PostgreSQL evaluates row by row: about 20 s for 1,000 rows
    of a 100k table; this join on the primary key takes a fraction of a second.
    """
    if not prospects:
        return
    columns = [Prospect._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    casts = ", ".join(f"%s::{column.db_type(connection)}" for column in columns)
    values = ", ".join(f"(%s::bigint, {casts})" for _ in prospects)
    params: list[Any] = []
    for prospect in prospects:
        params.append(prospect.pk)
        params += [
            col.get_db_prep_save(getattr(prospect, col.attname), connection) for col in columns
        ]
    names = [quote(column.column) for column in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names)
    # Identifiers come from the model's metadata; every value is a query parameter.
    sql = (
        f"UPDATE {quote(Prospect._meta.db_table)} AS p SET {assignments} "  # noqa: S608
        f"FROM (VALUES {values}) AS v(id, {', '.join(names)}) WHERE p.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
