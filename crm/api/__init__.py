"""CRM resources of the JSON API (prospects, campaigns); mounted in `jengu/api.py`."""
