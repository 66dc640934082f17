"""Admin helpers for big tables."""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.html import format_html


class EstimatedCountPaginator(Paginator):
    """Paginator that never runs `SELECT COUNT(*)` over a whole big table.

    Big lists use PostgreSQL's planner estimate: `pg_class.reltuples` when
    unfiltered, the row estimate of the query's plan when filtered. Only lists
    the planner expects to be small are counted exactly. Exact counts on 100k+
    rows cost more than the page itself.
    """

    exact_limit = 1_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = self._table_estimate(queryset.model._meta.db_table)
        else:
            estimate = self._plan_estimate(queryset)
        if estimate > self.exact_limit:
            return estimate
        # Bounded even when the statistics are stale and the list is in fact big.
        return queryset[: self.exact_limit * 10 + 1].count()

    @staticmethod
    def _plan_estimate(queryset: QuerySet) -> int:
        sql, params = queryset.order_by().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    @staticmethod
    def _table_estimate(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
        return max(int(row[0]) if row else 0, 0)


def column_values_cached(*, model: type[Model], field: str, seconds: int = 300) -> list[str]:
    """The distinct non-empty values of a column, sorted, shared for `seconds`.

    One entry per column, so the admin filter and the dashboard's filter list
    share a single `SELECT DISTINCT`, which reads every row.
    """

    def distinct_values() -> list[str]:
        values = model.objects.order_by().values_list(field, flat=True).distinct()
        return sorted(value for value in values if value)

    return cache.get_or_set(f"admin-filter:{model._meta.label}:{field}", distinct_values, seconds)


class CachedValuesFilter(admin.SimpleListFilter):
    """List filter over a column's distinct values, cached for a few minutes.

    Django's default filter for a plain column runs `SELECT DISTINCT` over the
    whole table on every page view (90 ms at 100k rows). Subclasses set `title`,
    `parameter_name` and `field`.
    """

    field = ""
    cache_seconds = 300

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        values = column_values_cached(
            model=model_admin.model, field=self.field, seconds=self.cache_seconds
        )
        return [(value, value) for value in values]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(**{self.field: self.value()})
        return queryset


class FastActionCheckboxMixin:
    """The action checkbox as one `format_html`, not a widget template render.

    Django renders each row's checkbox through the form template engine: about
    1 ms a row, half the time of a 50-row changelist. Same markup, same name.
    """

    def action_checkbox(self, obj: object) -> str:
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            str(obj),
        )


class ReadOnlyInline(admin.TabularInline):
    """An inline that shows related rows and never adds or deletes them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
