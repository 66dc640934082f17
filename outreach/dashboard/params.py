"""Ids from the query string and forms: anything but a bigint in ASCII digits is a 400."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import QueryDict

# PostgreSQL bigint: a larger id is a bad request, not a database error.
MAX_ID = 2**63 - 1


def _id(value: str, name: str) -> int:
    # str.isdigit() also accepts "²" and other digits int() refuses.
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_ID:
        raise BadRequest(f"{name} must be a positive whole number, not {value[:40]!r}")
    return int(value)


def id_param(params: QueryDict, name: str) -> int | None:
    """An optional id, e.g. a page cursor `before`."""
    value = params.get(name, "")
    return _id(value, name) if value else None


def id_list(params: QueryDict, name: str) -> list[int]:
    """Every id ticked in a form's checkboxes `name`."""
    return [_id(value, name) for value in params.getlist(name)]
