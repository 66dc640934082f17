"""Parse and check what a model wrote before anyone sends it.

A model that answers with prose around the JSON, forgets the subject, leaves
`{{ first_name }}` in the text or apologises "as an AI" has failed just as surely
as one that timed out: the gateway counts it against that provider and moves on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass


class InvalidAnswer(ValueError):
    """The provider answered, but not with something we can send."""

    error_class = "invalid_answer"


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


SUBJECT_MAX = 150
BODY_MIN = 20
BODY_MAX = 3000

_BOILERPLATE = re.compile(
    r"\bas an ai\b|\bas a language model\b|\bi(?: am|'m) an ai\b|\bi cannot assist\b"
    r"|\bi(?: can't|cannot) help with\b",
    re.IGNORECASE,
)
# Template syntax ({{ x }}, {% x %}, {a|b}) or the bracketed blanks models leave
# for the sender to fill: [Your Name], [Company], <first name>.
_PLACEHOLDER = re.compile(
    r"\{\{|\}\}|\{%|%\}|\{[^{}\n]*\|[^{}\n]*\}"
    r"|\[(?:your|first|last|company|contact|recipient|insert|name)[^\]\n]{0,40}\]"
    r"|<(?:your|first|last|company|contact|recipient|insert)[^>\n]{0,40}>",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def parse_json_object(text: str) -> dict:
    """The JSON object in a model's answer, tolerating a Markdown code fence."""
    cleaned = _FENCE.sub("", text.strip())
    try:
        value = json.loads(cleaned)
    except json.JSONDecodeError:
        start, end = cleaned.find("{"), cleaned.rfind("}")
        if start < 0 or end <= start:
            raise InvalidAnswer("answer is not JSON") from None
        try:
            value = json.loads(cleaned[start : end + 1])
        except json.JSONDecodeError:
            raise InvalidAnswer("answer is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidAnswer("answer is not a JSON object")
    return value


def draft_validate(value: dict) -> Draft:
    """A sendable subject and body, or InvalidAnswer saying what is wrong."""
    subject = value.get("subject")
    body = value.get("body")
    if not isinstance(subject, str) or not subject.strip():
        raise InvalidAnswer("missing subject")
    if not isinstance(body, str) or not body.strip():
        raise InvalidAnswer("missing body")
    subject, body = " ".join(subject.split()), body.strip()
    if len(subject) > SUBJECT_MAX:
        raise InvalidAnswer(f"subject longer than {SUBJECT_MAX} characters")
    if not BODY_MIN <= len(body) <= BODY_MAX:
        raise InvalidAnswer(f"body length {len(body)} outside {BODY_MIN}..{BODY_MAX}")
    for field, text in (("subject", subject), ("body", body)):
        if _BOILERPLATE.search(text):
            raise InvalidAnswer(f"{field} contains AI boilerplate")
        if match := _PLACEHOLDER.search(text):
            raise InvalidAnswer(f"{field} has an unfilled placeholder {match.group(0)!r}")
    return Draft(subject=subject, body=body)


def draft_from_text(text: str) -> Draft:
    """Parse and validate a model's raw answer text."""
    return draft_validate(parse_json_object(text))
