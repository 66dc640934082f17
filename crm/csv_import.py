"""CSV import of prospects: `manage.py import_prospects` calls `prospects_import_csv`.

Streams the file (100k rows stay in bounded memory), cleans each row, reports
bad rows by line number and commits good rows a chunk at a time, so one bad row
never loses the rest and a crash halfway keeps the chunks already written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from django.db import IntegrityError, transaction

from crm.enrollments import campaign_enroll
from crm.models import Campaign
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


# The longest field the reader holds in memory. Real lead lists stay far below it (a
# prospect's longest column, notes, takes 10,000 characters); a longer field is that
# line's error, not the end of the import (Python's csv default stops at 128 KiB).
MAX_FIELD_CHARACTERS = 1024 * 1024


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


@contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    """csv's limit is process-wide: raise it for one import, then put it back."""
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _records(reader) -> Iterator[tuple[int, list[str] | RowError]]:
    """The reader's records; a line it cannot read becomes that line's error.

    The reader starts afresh on the next physical line after an error, so one bad
    line never ends the import.
    """
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = str(exc)
            if "field limit" in reason:
                reason = f"a field is longer than {MAX_FIELD_CHARACTERS} characters"
            yield reader.line_num, RowError(reason)
            continue
        yield reader.line_num, values


def _nul_error(raw: dict[str, str]) -> RowError | None:
    """PostgreSQL cannot store NUL in text: refuse the row before its chunk is written."""
    for name, value in raw.items():
        if "\x00" in value:
            return RowError(f"{name} contains a NUL byte")
    return None


def _rows(stream: TextIO) -> Iterator[tuple[int, dict[str, str] | RowError]]:
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    mapping = header_map(header)
    for line, values in _records(reader):
        if isinstance(values, RowError):
            yield line, values
            continue
        if not any(map(str.strip, values)):
            continue
        raw = {name: values[i] for i, name in mapping.items() if i < len(values)}
        yield line, _nul_error(raw) or raw


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


def _accept(
    line: int, raw: dict[str, str] | RowError, report: ImportReport, seen: dict[tuple, int]
) -> dict | None:
    """The cleaned row to write, or None once its error is in the report."""
    try:
        if isinstance(raw, RowError):
            raise raw
        row = prospect_row_clean(raw)
    except RowError as exc:
        report.errors.append((line, str(exc)))
        return None
    key = natural_key(row)
    if key in seen:
        report.errors.append((line, f"duplicate of line {seen[key]}"))
        return None
    seen[key] = line
    return row


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
    with _field_size_limit(MAX_FIELD_CHARACTERS):
        for line, raw in _rows(stream):
            row = _accept(line, raw, report, seen)
            if row is not None:
                chunk.append(row)
            if len(chunk) >= chunk_size:
                _flush(chunk, report, source, dry_run)
    _flush(chunk, report, source, dry_run)
    if campaign is not None and not dry_run:
        results = campaign_enroll(campaign=campaign, prospect_ids=report.prospect_ids)
        report.enrolled = sum(1 for result in results if result.status == "enrolled")
    return report
