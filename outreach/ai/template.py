"""The provider that always answers: the step's own templates, rendered locally."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from outreach.ai.base import AIRequest, Attempt, Provider
from outreach.ai.sandbox import sandbox_render
from outreach.ai.validation import Draft


class TemplateError(ValueError):
    """A step template that cannot be rendered (bad syntax, empty result)."""


def draft_render(
    *, subject_template: str, body_template: str, context: dict[str, Any], seed: str
) -> Draft:
    """Render a step's subject and body with spintax resolved from `seed`."""
    try:
        subject = sandbox_render(subject_template, context=context, seed=f"{seed}:subject")
        body = sandbox_render(body_template, context=context, seed=f"{seed}:body")
    except Exception as exc:  # noqa: BLE001 - any template error is the user's input
        raise TemplateError(f"step template does not render: {exc}") from exc
    subject = " ".join(subject.split())
    if not subject or not body.strip():
        raise TemplateError("step template renders an empty subject or body")
    return Draft(subject=subject, body=body.strip())


class TemplateProvider(Provider):
    """Answers with a draft rendered beforehand: no network, no breaker, no bucket."""

    name = "template"

    def __init__(self, draft: Draft) -> None:
        self.draft = draft

    def attempt(self, request: AIRequest, parse: Callable[[str], Any]) -> Attempt:
        return Attempt(provider=self.name, model="", called=True, success=True, result=self.draft)
