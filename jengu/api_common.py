"""Pieces every API router shares: error schema, keyset pagination, patch schemas."""

from __future__ import annotations

from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import JsonResponse
from ninja import Field, Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import create_model, model_validator

MAX_PAGE_SIZE = 200
# Ids are PostgreSQL bigints; a larger number would be a database error, not a 404.
DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _reject_nul(value: Any) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text may not contain NUL (\\x00) characters")
    if isinstance(value, dict):
        for item in value.values():
            _reject_nul(item)
    elif isinstance(value, list):
        for item in value:
            _reject_nul(item)


class InSchema(Schema):
    """Base of request schemas: PostgreSQL cannot store NUL in text, so refuse it early."""

    @model_validator(mode="before")
    @classmethod
    def _object_without_nul(cls, data: Any) -> Any:
        raw = getattr(data, "_obj", data)  # ninja hands validators a DjangoGetter
        if raw is None or isinstance(raw, (list, str, int, float, bool)):
            # ninja would read a list's missing attributes as "field not given".
            raise ValueError("expected a JSON object")
        _reject_nul(raw)
        return data


class ErrorOut(Schema):
    detail: Any = Field(..., description="A message, or a list of {type, loc, msg} on 422.")


class PageQuery(InSchema):
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="Items per page.")
    cursor: DbId | None = Field(
        None, ge=0, description="`next_cursor` of the previous page; omit for the first page."
    )


def keyset_page(queryset: QuerySet, *, page: PageQuery) -> dict[str, Any]:
    """Newest first, `limit` items below `cursor`.

    Keyset pagination instead of offsets and counts: a page costs the same deep
    in 100k rows, and rows added meanwhile never shift an integrator's paging.
    """
    if page.cursor is not None:
        queryset = queryset.filter(pk__lt=page.cursor)
    items = list(queryset.order_by("-pk")[: page.limit + 1])
    more = len(items) > page.limit
    items = items[: page.limit]
    cursor = None
    if more:  # the last item shown is the cursor; `.values()` rows are dicts
        last = items[-1]
        cursor = last["id"] if isinstance(last, dict) else last.pk
    return {"items": items, "next_cursor": cursor}


def keyset_page_json(queryset: QuerySet, *, page: PageQuery, item: type[Schema]) -> JsonResponse:
    """`keyset_page` of plain column values, serialised straight to JSON.

    For hot list endpoints whose item schema is made of model columns only:
    building 50 model instances and validating them through pydantic costs
    ~4x the query. The declared response schema still documents the shape,
    and the Schemathesis run checks that real responses match it.
    """
    values = queryset.values(*item.model_fields)
    return JsonResponse(keyset_page(values, page=page), encoder=NinjaJSONEncoder)


def patch_schema(schema: type[InSchema], name: str) -> type[InSchema]:
    """`schema` with every field optional and the same constraints, for PATCH bodies.

    Fields stay non-nullable: leaving a field out keeps it, sending "" clears it.
    Read the body with `model_dump(exclude_unset=True)`.
    """
    fields: dict[str, Any] = {
        field_name: (
            Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation,
            Field(None, description=info.description),
        )
        for field_name, info in schema.model_fields.items()
    }
    return create_model(name, __base__=InSchema, **fields)


def unprocessable(message: str, *loc: str) -> dict[str, Any]:
    """A 422 body shaped like django-ninja's own validation errors."""
    return {"detail": [{"type": "value_error", "loc": ["body", *loc], "msg": message}]}
