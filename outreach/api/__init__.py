"""Outreach's resources of the JSON API (messages, inboxes with their warm-up, the
numbers); mounted in `jengu/api.py`."""
