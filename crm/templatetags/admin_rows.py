"""`{% changelist_results cl %}`: Django's `{% result_list %}` with faster rows."""

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList

from jengu.admin_rows import changelist_rows

register = template.Library()


def changelist_results(cl: ChangeList) -> dict:
    """The context of Django's `result_list` tag, rows from `changelist_rows`."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": changelist_rows(cl),
    }


@register.tag(name="changelist_results")
def changelist_results_tag(parser: template.base.Parser, token: template.base.Token):
    return InclusionAdminNode(
        parser,
        token,
        func=changelist_results,
        template_name="change_list_results.html",
        takes_context=False,
    )
