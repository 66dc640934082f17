"""Admin helpers for big tables."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Paginator that never runs `SELECT COUNT(*)` over a whole big table.

    An unfiltered list uses PostgreSQL's planner estimate (`pg_class.reltuples`);
    a filtered one counts at most `exact_limit` rows and stops there. Exact
    counts on 100k+ rows cost more than the page itself.
    """

    exact_limit = 10_000

    @cached_property
    def count(self) -> int:
        query = self.object_list.query
        if not query.where:
            estimate = self._table_estimate(self.object_list.model._meta.db_table)
            if estimate > self.exact_limit:
                return estimate
        return self.object_list[: self.exact_limit + 1].count()

    @staticmethod
    def _table_estimate(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
        return max(int(row[0]) if row else 0, 0)
