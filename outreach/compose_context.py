"""What the composer knows about a prospect, and which A/B variant it gets.

The context is a plain dict of strings (and small dicts/lists of them): it is the
only thing user-written step templates can see, and it is what the prompt shows
the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from crm.models import CampaignStep, Enrollment, Prospect
from outreach.deliverability_models import VariantPromotion

logger = logging.getLogger(__name__)

_MAX_TEXT = 500
_MAX_DEPTH = 3


def _plain(value: Any, depth: int = 0) -> Any:
    """Enrichment findings reduced to JSON primitives, bounded in size and depth."""
    if isinstance(value, str):
        return value[:_MAX_TEXT]
    if isinstance(value, bool | int | float) or value is None:
        return value
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {str(k)[:64]: _plain(v, depth + 1) for k, v in list(value.items())[:30]}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value[:20]]
    return None


def compose_context(*, prospect: Prospect, step_order: int) -> dict[str, Any]:
    """Template and prompt variables for one prospect (no model instances)."""
    first_name = prospect.contact_name.split()[0] if prospect.contact_name.strip() else ""
    facts = _plain(prospect.enrichment or {})
    return {
        "business_name": prospect.business_name,
        "contact_name": prospect.contact_name,
        "contact_first_name": first_name or "there",
        "city": prospect.city,
        "country": prospect.country,
        "industry": prospect.industry,
        "website": prospect.website,
        "domain": prospect.domain,
        "facts": facts,
        "facts_json": json.dumps(facts, ensure_ascii=False)[:4000] if facts else "",
        "step_order": step_order,
    }


# Enrichment's bookkeeping of how it searched: other people's addresses and pages
# a model should neither see nor repeat.
_NOT_FOR_PROMPTS = frozenset(
    {"website_attempts", "pages", "candidates", "rejected", "to_validate", "validation", "chosen"}
)
PROMPT_FACTS_MAX_CHARS = 4000


def _prompt_facts(facts: Any) -> Any:
    """The enrichment facts worth showing a model, whole keys only, within the size cap."""
    if not isinstance(facts, dict):
        return facts if len(json.dumps(facts)) <= PROMPT_FACTS_MAX_CHARS else None
    kept, size = {}, 0
    for name, value in facts.items():
        cost = len(json.dumps({name: value}, ensure_ascii=False))
        if name in _NOT_FOR_PROMPTS or size + cost > PROMPT_FACTS_MAX_CHARS:
            continue
        kept[name], size = value, size + cost
    return kept


def prompt_data(*, context: dict[str, Any], earlier_subjects: list[str]) -> str:
    """The prospect as one line of JSON for the prompt's data block.

    Any of it may come from a stranger (their website, a search snippet, an
    imported sheet), so the prompt presents it as data, and `<` and `>` are
    escaped: the text cannot close the block and go on as instructions.
    """
    data = {
        "business_name": context["business_name"],
        "contact_name": context["contact_name"],
        "greet_as": context["contact_first_name"] if context["contact_name"] else "",
        "industry": context["industry"],
        "city": context["city"],
        "country": context["country"],
        "website": context["website"],
        "research": _prompt_facts(context["facts"]),
        "earlier_subjects": earlier_subjects,
    }
    text = json.dumps({name: value for name, value in data.items() if value}, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


@dataclass(frozen=True)
class Variant:
    name: str
    subject_template: str
    body_template: str


def step_variants(*, step: CampaignStep) -> list[Variant]:
    """The step's own templates as variant "A", then each well-formed entry of `variants`."""
    options = [Variant("A", step.subject_template, step.body_template)]
    for position, raw in enumerate(step.variants or []):
        if not isinstance(raw, dict):
            logger.warning("step %s: variant %d is not an object, ignored", step.pk, position)
            continue
        options.append(
            Variant(
                name=str(raw.get("name") or chr(ord("B") + position))[:32],
                subject_template=raw.get("subject_template") or step.subject_template,
                body_template=raw.get("body_template") or step.body_template,
            )
        )
    return options


def promoted_variant_name(*, step_id: int) -> str:
    """The promoted variant of a step ('' when none): compose gives it to new enrollments."""
    found = VariantPromotion.objects.filter(step_id=step_id, reverted_at__isnull=True)
    return found.values_list("variant", flat=True).first() or ""


def variant_choose(*, enrollment: Enrollment, step: CampaignStep) -> Variant:
    """The same enrollment always gets the same variant, across steps when it can.

    An enrollment keeps the variant it was first given while a step offers it;
    one without a variant yet gets the step's promoted winner when there is one
    (deliverability/ab.py); otherwise a hash of the enrollment id picks one, so
    the split is even and stable across retries and workers.
    """
    options = step_variants(step=step)
    wanted = enrollment.variant
    if not wanted and len(options) > 1:
        wanted = promoted_variant_name(step_id=step.pk)
    for option in options:
        if wanted and option.name == wanted:
            return option
    digest = hashlib.sha256(f"enrollment:{enrollment.pk}".encode()).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)]
