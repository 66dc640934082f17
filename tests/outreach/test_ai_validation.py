"""A model's answer is only used when it is a complete, clean e-mail."""

import json

import pytest

from outreach.ai.validation import BODY_MAX, SUBJECT_MAX, InvalidAnswer, draft_from_text

GOOD_BODY = "Hello Anna,\n\nA short, specific note about your hotel in Lisbon.\n\nSam"


def answer(**fields) -> str:
    return json.dumps({"subject": "A question", "body": GOOD_BODY, **fields})


def test_a_clean_answer_becomes_a_draft():
    draft = draft_from_text(answer(subject="  A   question "))

    assert draft.subject == "A question"
    assert draft.body == GOOD_BODY


def test_json_inside_a_code_fence_or_prose_is_found():
    assert draft_from_text(f"```json\n{answer()}\n```").subject == "A question"
    assert draft_from_text(f"Here you go: {answer()} Hope it helps").subject == "A question"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json at all", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"body": GOOD_BODY}), "missing subject"),
        (answer(subject="  "), "missing subject"),
        (answer(body=None), "missing body"),
        (answer(subject="x" * (SUBJECT_MAX + 1)), "subject longer"),
        (answer(body="Hi."), "body length"),
        (answer(body="y" * (BODY_MAX + 1)), "body length"),
        (answer(body="As an AI language model, I would write: hello there friend."), "boilerplate"),
        (answer(subject="I'm an AI, but here goes"), "boilerplate"),
        (answer(body="Hi {{ contact_first_name }}, a note about your hotel."), "placeholder"),
        (answer(body="Hi {Anna|there}, a short note about your hotel."), "placeholder"),
        (answer(body="Hi [First Name], a short note about your hotel here."), "placeholder"),
        (answer(body="Hello Anna, a short note.\n\nBest,\n[Your Name]"), "placeholder"),
    ],
)
def test_an_unusable_answer_is_rejected_with_the_reason(text, reason):
    with pytest.raises(InvalidAnswer, match=reason):
        draft_from_text(text)
