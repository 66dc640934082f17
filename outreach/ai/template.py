"""The provider that always answers: the step's own templates, rendered locally."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from outreach.ai.base import AIRequest, Attempt, Provider
from outreach.ai.sandbox import TemplateLimitError, sandbox_render
from outreach.ai.validation import Draft

# The longest subject a message can store (and RFC 5322's line limit).
SUBJECT_MAX_CHARS = 998


class TemplateError(ValueError):
    """A step template that cannot be rendered (bad syntax, empty result, over a limit)."""


def _render(part: str, template: str, *, context: dict[str, Any], seed: str) -> str:
    try:
        return sandbox_render(template, context=context, seed=f"{seed}:{part}")
    except TemplateLimitError as exc:
        raise TemplateError(f"step template ({part}) is over a limit: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any template error is the user's input
        raise TemplateError(f"step template does not render: {exc}") from exc


def draft_render(
    *, subject_template: str, body_template: str, context: dict[str, Any], seed: str
) -> Draft:
    """Render a step's subject and body with spintax resolved from `seed`."""
    subject = " ".join(_render("subject", subject_template, context=context, seed=seed).split())
    body = _render("body", body_template, context=context, seed=seed).strip()
    if not subject or not body:
        raise TemplateError("step template renders an empty subject or body")
    if len(subject) > SUBJECT_MAX_CHARS:
        raise TemplateError(
            f"step template (subject) is over a limit: it renders {len(subject)} characters,"
            f" a subject may have {SUBJECT_MAX_CHARS}"
        )
    return Draft(subject=subject, body=body)


class TemplateProvider(Provider):
    """Answers with a draft rendered beforehand: no network, no breaker, no bucket."""

    name = "template"

    def __init__(self, draft: Draft) -> None:
        self.draft = draft

    def attempt(self, request: AIRequest, parse: Callable[[str], Any]) -> Attempt:
        return Attempt(provider=self.name, model="", called=True, success=True, result=self.draft)
