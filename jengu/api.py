"""The JSON API at /api/v1/: one NinjaAPI, the apps' routers, JSON errors only.

Part of the composition root: it mounts the apps' routers by dotted path and answers
their refusals by the bases in `jengu.errors`, so `jengu` imports no app.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from jengu.api_common import unprocessable
from jengu.apikeys.auth import ApiKeyAuth, ApiKeyRateThrottle
from jengu.apikeys.scopes import CAMPAIGNS_WRITE, PROSPECTS_WRITE, SEND
from jengu.errors import InputError, StateConflict

logger = logging.getLogger(__name__)

# Documented on every operation, so clients (and Schemathesis) know every answer.
COMMON_ERRORS = {
    "400": "Malformed request (e.g. a body that is not JSON).",
    "401": "Missing, invalid or revoked API key.",
    "403": "The key lacks the scope this request needs (`read`, `prospects:write`, "
    "`campaigns:write` or `send`).",
    "404": "No such object.",
    "409": "Conflicts with an existing record or state.",
    "413": "Request body too large.",
    "422": "Invalid input; `detail` lists each field's problem.",
    "429": "Rate limit of this key exceeded; see the Retry-After header.",
}


class JenguAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any):
        schema = super().get_openapi_schema(**kwargs)
        error_ref = {"$ref": "#/components/schemas/ErrorOut"}
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                for code, description in COMMON_ERRORS.items():
                    responses.setdefault(
                        code,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": error_ref}},
                        },
                    )
        return schema


api = JenguAPI(
    title="Jengu API",
    version="1.0",
    description="Prospects, campaigns, inboxes and messages for integrations. "
    "Authenticate with the `X-API-Key` header (`manage.py create_api_key NAME "
    "[--scopes read,prospects:write,...]`). Reads need the `read` scope; writes need "
    "`prospects:write` (prospects), `campaigns:write` (campaigns, inboxes) or `send` "
    "(activate a campaign, enroll, requeue or discard dead letters).",
    urls_namespace="api",
    docs_url="/docs",
    auth=ApiKeyAuth(),
    throttle=[ApiKeyRateThrottle()],
)


def _json(request: HttpRequest, status: int, body: Any) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(InputError)
def _invalid_input(request: HttpRequest, exc: InputError) -> HttpResponse:
    return _json(request, 422, unprocessable(str(exc), *([exc.field] if exc.field else [])))


@api.exception_handler(StateConflict)
def _state_conflict(request: HttpRequest, exc: StateConflict) -> HttpResponse:
    return _json(request, 409, {"detail": exc.api_detail()})


@api.exception_handler(IntegrityError)
def _integrity_conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    logger.info("API write conflict: %s", exc)
    return _json(request, 409, {"detail": "conflicts with an existing record"})


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _json(request, 413, {"detail": "request body too large"})


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return _json(request, 500, {"detail": "internal error; it has been logged"})


# (prefix, router, tags, the scope its writes need); reads always need `read`. Enrolling
# and activating are `send` (crm/api/campaigns.py); routers without one are read-only.
# A resource may take routers from two apps: a campaign's stats count outreach's messages.
ROUTERS: list[tuple[str, str, str, str | None]] = [
    ("/prospects", "crm.api.prospects.router", "prospects", PROSPECTS_WRITE),
    ("/campaigns", "crm.api.campaigns.router", "campaigns", CAMPAIGNS_WRITE),
    ("/campaigns", "outreach.api.stats.router", "campaigns", None),
    ("/inboxes", "outreach.api.inboxes.router", "inboxes", CAMPAIGNS_WRITE),
    ("/messages", "outreach.api.messages.messages_router", "messages", None),
    ("/metrics", "outreach.api.metrics.router", "metrics", None),
    ("/traces", "jengu.events.api.traces_router", "events", None),
    ("/dead-letters", "jengu.events.api.dead_letters_router", "events", SEND),
    ("/deliverability", "outreach.deliverability.api.router", "deliverability", CAMPAIGNS_WRITE),
]
for _prefix, _router, _tag, _write_scope in ROUTERS:
    if _write_scope:
        api.add_router(_prefix, _router, tags=[_tag], auth=ApiKeyAuth(_write_scope))
    else:
        api.add_router(_prefix, _router, tags=[_tag])
