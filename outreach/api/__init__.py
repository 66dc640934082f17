"""Outreach's resources of the JSON API (messages, inboxes with their warm-up, the
numbers); mounted in `jengu/api.py`.

Operation ids are part of the API's contract (generated clients name their methods by
them), so the operations that moved here from `crm/api/` and `outreach/api.py` name
the ids they were first published with.
"""
