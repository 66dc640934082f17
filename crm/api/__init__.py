"""CRM resources of the JSON API; mounted in `jengu/api.py`."""

from crm.api.campaigns import router as campaigns_router
from crm.api.inboxes import router as inboxes_router
from crm.api.metrics import router as metrics_router
from crm.api.prospects import router as prospects_router

__all__ = ["campaigns_router", "inboxes_router", "metrics_router", "prospects_router"]
