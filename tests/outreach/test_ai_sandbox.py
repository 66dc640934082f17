"""Step templates: spintax per prospect, Django variables, nothing beyond the context."""

import pytest
from django.template import TemplateSyntaxError

from outreach.ai.sandbox import sandbox_render, spintax_resolve
from outreach.ai.template import TemplateError, draft_render


def test_spintax_is_the_same_for_the_same_seed_and_varies_across_seeds():
    text = "{Hi|Hello|Hey} there, {quick|short} {note|question}"

    first = spintax_resolve(text, seed="prospect:1")

    assert spintax_resolve(text, seed="prospect:1") == first
    assert "{" not in first and "|" not in first
    outcomes = {spintax_resolve(text, seed=f"prospect:{n}") for n in range(40)}
    assert len(outcomes) > 3


def test_nested_spintax_resolves_to_one_leaf():
    result = spintax_resolve("{a|{b|c}}", seed="x")

    assert result in {"a", "b", "c"}


def test_django_filters_with_pipes_are_not_mistaken_for_spintax():
    text = "{Hi|Hello} {{ name|upper }}{% if city %} in {{ city|lower }}{% endif %}"

    rendered = sandbox_render(text, context={"name": "Anna", "city": "LISBON"}, seed="1")

    assert rendered.endswith("ANNA in lisbon")
    assert rendered.split()[0] in {"Hi", "Hello"}


def test_spintax_may_contain_template_variables():
    rendered = sandbox_render(
        "{Hi {{ name }}|Hello {{ name }}}!", context={"name": "Anna"}, seed="7"
    )

    assert rendered in {"Hi Anna!", "Hello Anna!"}


def test_plain_text_is_not_html_escaped():
    assert sandbox_render("{{ name }}", context={"name": "Smith & Sons <b>"}, seed="1") == (
        "Smith & Sons <b>"
    )


@pytest.mark.parametrize(
    "template",
    [
        "{% debug %}",
        "{% load static %}{% static 'x' %}",
        "{% include 'base.html' %}",
        "{% extends 'base.html' %}",
        "{% url 'admin:index' %}",
    ],
)
def test_templates_cannot_reach_outside_the_context(template):
    with pytest.raises(TemplateSyntaxError):
        sandbox_render(template, context={}, seed="1")


def test_undefined_variables_render_empty_rather_than_leaking_syntax():
    assert sandbox_render("Hi {{ nobody }}!", context={}, seed="1") == "Hi !"


def test_a_broken_step_template_is_a_clear_error():
    with pytest.raises(TemplateError, match="does not render"):
        draft_render(subject_template="{% if %}", body_template="Body", context={}, seed="1")


def test_a_template_rendering_to_nothing_is_an_error():
    with pytest.raises(TemplateError, match="empty"):
        draft_render(subject_template="{{ missing }}", body_template="Body", context={}, seed="1")


LONG = "x" * 2000
LIMITED = {
    "a huge width": '{{ name|ljust:"5000000" }}',
    "a huge format width": '{{ name|stringformat:"9000000s" }}',
    "a huge precision": '{{ 1.5|floatformat:"900000" }}',
    "nested loops": "{% for a in long %}{% for b in long %}x{% endfor %}{% endfor %}",
    "nested loops with nothing inside": (
        "{% for a in long %}{% for b in long %}{% endfor %}{% endfor %}"
    ),
    "doubling with with": "".join(f"{{% with v{i}=v{i - 1}|add:v{i - 1} %}}" for i in range(1, 17))
    + "{{ v16 }}"
    + "{% endwith %}" * 16,
    "a long join": "{{ long|make_list|join:long }}",
    "a value repeated": "{{ long }}" * 1000,
}


@pytest.mark.parametrize("template", LIMITED.values(), ids=LIMITED.keys())
def test_a_template_cannot_build_unbounded_output(template):
    context = {"name": "Anna", "long": LONG, "v0": "y" * 100}

    with pytest.raises(TemplateError, match="over a limit"):
        draft_render(subject_template="Hi", body_template=template, context=context, seed="1")


def test_lorem_is_not_available():
    with pytest.raises(TemplateError, match="does not render"):
        draft_render(
            subject_template="Hi", body_template="{% lorem 900000 w %}", context={}, seed="1"
        )


def test_the_template_source_and_the_subject_have_a_size_limit():
    with pytest.raises(TemplateError, match="longer than 50000 characters"):
        draft_render(subject_template="Hi", body_template="x" * 50_001, context={}, seed="1")
    with pytest.raises(TemplateError, match="a subject may have 998"):
        draft_render(subject_template="s" * 999, body_template="Body", context={}, seed="1")


def test_templates_within_the_limits_render_as_before():
    template = "{% for room in rooms %}{{ room|upper }}{% if not forloop.last %}, {% endif %}"
    template += "{% endfor %} {{ name|ljust:'6' }}|"

    rendered = sandbox_render(
        template, context={"rooms": ["sea", "garden"] * 10, "name": "Anna"}, seed="1"
    )

    assert rendered.startswith("SEA, GARDEN, SEA") and rendered.endswith("Anna  |")


def test_unclosed_tags_and_braces_stay_text():
    text = "{{" * 3000 + " {% if " + "{a|b" + " {# x"

    rendered = sandbox_render(text, context={}, seed="1")

    assert rendered == text
