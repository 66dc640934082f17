"""CSV import of prospects: `manage.py import_prospects` calls `prospects_import_csv`.

Streams the file (100k rows stay in bounded memory), cleans each row, reports
bad rows by line number and commits good rows a chunk at a time, so one bad row
never loses the rest and a crash halfway keeps the chunks already written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

from django.db import IntegrityError, transaction

from crm.models import Campaign
from crm.services import campaign_enroll
from crm.upsert import RowError, natural_key, prospect_row_clean, prospects_upsert

# Header spellings seen in real lead lists, mapped to our field names.
HEADER_ALIASES = {
    "business": "business_name",
    "business_name": "business_name",
    "company": "business_name",
    "company_name": "business_name",
    "hotel": "business_name",
    "hotel_name": "business_name",
    "name": "business_name",
    "contact": "contact_name",
    "contact_name": "contact_name",
    "contact_person": "contact_name",
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "website": "website",
    "url": "website",
    "web": "website",
    "site": "website",
    "phone": "phone",
    "telephone": "phone",
    "tel": "phone",
    "city": "city",
    "town": "city",
    "country": "country",
    "country_code": "country",
    "timezone": "timezone",
    "time_zone": "timezone",
    "tz": "timezone",
    "industry": "industry",
    "category": "industry",
    "tags": "tags",
    "notes": "notes",
    "note": "notes",
    "email_status": "email_status",
}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    enrolled: int = 0
    prospect_ids: list[int] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.errors)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (no header, no business name column…)."""


def header_map(header: list[str]) -> dict[int, str]:
    """Column index → field name, matching header names case-insensitively."""
    mapping: dict[int, str] = {}
    for index, name in enumerate(header):
        key = name.strip().lower().replace("-", "_").replace(" ", "_")
        if key in HEADER_ALIASES and HEADER_ALIASES[key] not in mapping.values():
            mapping[index] = HEADER_ALIASES[key]
    if "business_name" not in mapping.values():
        raise ImportFileError(
            "no business name column (expected one of: business_name, company, hotel, name)"
        )
    return mapping


def _rows(stream: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    mapping = header_map(header)
    for values in reader:
        if not any(map(str.strip, values)):
            continue
        yield reader.line_num, {name: values[i] for i, name in mapping.items() if i < len(values)}


def _upsert_chunk(chunk: list[dict], source: str):
    """Upsert a chunk; a concurrent writer creating the same key gets one retry."""
    try:
        return prospects_upsert(rows=chunk, source=source)
    except IntegrityError:
        return prospects_upsert(rows=chunk, source=source)


def _flush(chunk: list[dict], report: ImportReport, source: str, dry_run: bool) -> None:
    if not chunk:
        return
    with transaction.atomic():
        summary = _upsert_chunk(chunk, source)
        if dry_run:
            transaction.set_rollback(True)
    report.created += summary.count("created")
    report.updated += summary.count("updated")
    report.unchanged += summary.count("unchanged")
    if not dry_run:
        report.prospect_ids.extend(outcome.prospect.pk for outcome in summary.outcomes)
    chunk.clear()


def prospects_import_csv(
    *,
    stream: TextIO,
    source: str = "csv",
    campaign: Campaign | None = None,
    dry_run: bool = False,
    chunk_size: int = 1000,
) -> ImportReport:
    """Import prospects from an open CSV text stream (opened with utf-8-sig)."""
    report = ImportReport()
    chunk: list[dict] = []
    seen: dict[tuple[str, ...], int] = {}
    for line, raw in _rows(stream):
        try:
            row = prospect_row_clean(raw)
        except RowError as exc:
            report.errors.append((line, str(exc)))
            continue
        key = natural_key(row)
        if key in seen:
            report.errors.append((line, f"duplicate of line {seen[key]}"))
            continue
        seen[key] = line
        chunk.append(row)
        if len(chunk) >= chunk_size:
            _flush(chunk, report, source, dry_run)
    _flush(chunk, report, source, dry_run)
    if campaign is not None and not dry_run:
        results = campaign_enroll(campaign=campaign, prospect_ids=report.prospect_ids)
        report.enrolled = sum(1 for result in results if result.status == "enrolled")
    return report
