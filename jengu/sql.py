"""Plain SQL for the statements that run for every e-mail, with models as results.

Django compiles every queryset anew on every call. Loading a message with three
related rows costs about 1.6 ms of CPU and a one-row UPDATE about 0.3 ms; the same
statements as strings cost 0.25 and 0.1 ms. The sending pipeline runs a couple of
dozen statements per e-mail in one Python process (README, "Benchmarks"), so its
hottest ones are written by hand with these helpers; everything else uses the ORM.

    columns = select_list(EmailMessage, "m") + ", " + select_list(Prospect, "p")
    row = fetch_row(f"SELECT {columns} FROM ... WHERE m.id = %s", [pk])
    message, prospect = row_instances(row, [EmailMessage, Prospect])
    # or, for a row of one model and then its foreign keys' rows:
    message = instance_with_related(row, EmailMessage, prospect=Prospect)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model

Converter = Callable[[Any, Any, Any], Any]


@cache
def _layout(model: type[Model]) -> tuple[tuple[str, ...], int, tuple[tuple[int, Any, tuple], ...]]:
    """Attribute names in column order, the primary key's index, each column's converters.

    Cached per model for the process: PostgreSQL's backend adds no converters of
    its own, and the fields' ones are handed the calling thread's connection.
    """
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        chain = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if chain:
            converters.append((index, column, tuple(chain)))
    names = tuple(field.attname for field in fields)
    return names, names.index(model._meta.pk.attname), tuple(converters)


def select_list(model: type[Model], alias: str) -> str:
    """Every concrete column of `model` under table alias `alias`, in `row_instances` order."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def row_instances(row: Sequence[Any], models: Sequence[type[Model]]) -> list[Model | None]:
    """Split one row of consecutive `select_list`s into model instances, as the ORM builds
    them (converters applied). A model whose primary key is NULL (an outer join that
    found nothing) comes back as None."""
    instances: list[Model | None] = []
    offset = 0
    for model in models:
        names, pk_index, converters = _layout(model)
        values = list(row[offset : offset + len(names)])
        offset += len(names)
        if values[pk_index] is None:
            instances.append(None)
            continue
        for index, column, chain in converters:
            for convert in chain:
                values[index] = convert(values[index], column, connection)
        instances.append(model.from_db(DEFAULT_DB_ALIAS, list(names), values))
    return instances


def instance_with_related(row: Sequence[Any], model: type[Model], **related: type[Model]) -> Model:
    """`row_instances` for a row of `model` then its related models, attached as
    select_related attaches them: `instance_with_related(row, Enrollment, prospect=Prospect)`."""
    instance, *others = row_instances(row, [model, *related.values()])
    for name, other in zip(related, others, strict=True):
        setattr(instance, name, other)
    return instance


def fetch_row(sql: str, params: Sequence[Any] | dict[str, Any]) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetch_rows(sql: str, params: Sequence[Any] | dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: Sequence[Any] | dict[str, Any]) -> int:
    """Run one statement; the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
