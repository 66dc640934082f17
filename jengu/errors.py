"""Refusals a caller can fix: the bases that apps' services raise and the API answers.

The apps subclass these (`crm.errors.InvalidInput`, `crm.upsert.RowError`,
`crm.services.InvalidStageTransition`); `jengu/api.py` maps the bases to HTTP, so
the API assembly needs no import of the apps that raise them. Failures of work
(what a worker retries) are another matter: `jengu.failures`.
"""

from __future__ import annotations


class InputError(ValueError):
    """Input that cannot be stored: the API answers 422, naming `field` when known."""

    field: str | None = None


class StateConflict(ValueError):
    """Refused because of a record's current state: the API answers 409."""

    def api_detail(self) -> str:
        """The 409's `detail`: the message, with what was refused when a subclass says."""
        return str(self)
