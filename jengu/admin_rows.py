"""Changelist rows of big admin lists, rendered with the per-page work done once.

Django's `items_for_result` decides every cell from scratch: it looks the field
up, formats through `format_html`, and for every row's link reverses the URL and
resolves it again to carry the list's filters. That is 40 % of a 50-row page.
`changelist_rows` renders the same markup, deciding each column once per page.
Pages it does not cover (editable rows, popups, columns that are not plain model
fields or the action checkbox) render through Django's own `results`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin.templatetags.admin_list import ResultList, results
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

from jengu.admin_utils import FastActionCheckboxMixin

Display = Callable[[models.Model], str]
# Fields whose list value Django shows as the plain string.
TEXT_FIELDS = (models.CharField, models.EmailField, models.TextField, models.SlugField)


def changelist_rows(cl: ChangeList) -> list[ResultList]:
    """The rows of `cl` exactly as `admin_list.results` renders them."""
    columns = _columns(cl)
    if columns is None:
        return list(results(cl))
    link = _RowLink(cl)
    rows = []
    for obj in cl.result_list:
        cells, first_link = [], True
        for name, row_class, display in columns:
            # The one escape of the value; the rest of a cell is markup and field names.
            shown = conditional_escape(display(obj))
            if name in cl.list_display_links:
                # Like Django: the first linked column is the row's header cell.
                tag = "th" if first_link else "td"
                first_link = False
                cells.append(SafeString(f"<{tag}{row_class}>{link.around(obj, shown)}</{tag}>"))
            else:
                cells.append(SafeString(f"<td{row_class}>{shown}</td>"))
        rows.append(ResultList(None, cells))
    return rows


def _columns(cl: ChangeList) -> list[tuple[str, str, Display]] | None:
    if cl.formset or cl.is_popup or cl.to_field or not cl.list_display_links:
        return None
    empty = cl.model_admin.get_empty_value_display()
    columns = []
    for name in cl.list_display:
        if name == "action_checkbox" and isinstance(cl.model_admin, FastActionCheckboxMixin):
            columns.append((name, ' class="action-checkbox"', cl.model_admin.action_checkbox))
            continue
        field = _plain_field(cl, name)
        if field is None:
            return None
        classes = f"field-{name}"
        if isinstance(field, (models.DateField, models.TimeField)):
            classes += " nowrap"
        columns.append((name, f' class="{classes}"', _field_display(field, empty, cl)))
    return columns


def _plain_field(cl: ChangeList, name: object) -> models.Field | None:
    if not isinstance(name, str):
        return None
    try:
        field = cl.lookup_opts.get_field(name)
    except FieldDoesNotExist:
        return None
    if field.is_relation or field.auto_created or field.name != name:
        return None
    return field


def _field_display(field: models.Field, empty: str, cl: ChangeList) -> Display:
    """What `display_for_field` shows for this column, with the per-field work hoisted."""
    name = field.attname
    avoid_link = name in cl.list_display_links

    def value_of(obj: models.Model) -> object:
        value = getattr(obj, name)
        return "" if isinstance(value, str) and not value.strip() else value

    if field.flatchoices:
        try:
            choices = dict(field.flatchoices)
        except TypeError:  # list-like choices: Django's own path handles them
            pass
        else:
            return lambda obj: choices.get(value_of(obj), empty)
    if isinstance(field, models.DateTimeField):
        datetime_format = get_format("DATETIME_FORMAT")
        # Rows written together share a timestamp (an import chunk, a bulk
        # action), and formatting one is a tenth of a page's time.
        formatted: dict[object, str] = {}

        def localized(obj: models.Model) -> str:
            value = value_of(obj)
            if value in field.empty_values:
                return empty
            if value not in formatted:
                local = timezone.template_localtime(value)
                formatted[value] = dateformat.format(local, datetime_format)
            return formatted[value]

        return localized
    plain_text = type(field) in TEXT_FIELDS

    def displayed(obj: models.Model) -> str:
        value = value_of(obj)
        if plain_text and type(value) is str and value:
            return value
        return display_for_field(value, field, empty, avoid_link=avoid_link)

    return displayed


class _RowLink:
    """The change link of each row; the list's filters are appended as Django does."""

    def __init__(self, cl: ChangeList):
        self.cl = cl
        self.filters: str | None = None

    def around(self, obj: models.Model, shown: str) -> str:
        try:
            url = self.cl.url_for_result(obj)
        except NoReverseMatch:
            return shown
        if self.filters is None:
            context = {"preserved_filters": self.cl.preserved_filters, "opts": self.cl.opts}
            self.filters = add_preserved_filters(context, url).removeprefix(url)
        return format_html('<a href="{}">{}</a>', url + self.filters, shown)
