"""Which links, numbers, addresses and payment requests a draft may carry."""

import pytest

from crm.models import Prospect
from outreach.ai.untrusted import allowed_details, draft_foreign_details
from outreach.ai.validation import Draft

TEMPLATE = (
    "Hi {{ contact_first_name }}, book a call at https://cal.jengu.example/sam "
    "or ring me on +44 20 7946 0958. Sam (sam@jengu.example)"
)
PROSPECT = Prospect(
    business_name="Casa Azul",
    email="anna@casa-azul.example",
    website="https://www.casa-azul.example/",
    domain="casa-azul.example",
    phone="+351 21 123 4567",
)


def foreign(body: str, template: str = TEMPLATE) -> list[str]:
    allowed = allowed_details(templates=["A note for you", template], prospect=PROSPECT)
    return draft_foreign_details(Draft(subject="A note for you", body=body), allowed)


@pytest.mark.parametrize(
    "body",
    [
        "Book a call at https://cal.jengu.example/sam, or reply here.",
        "Your rooms page (https://casa-azul.example/rooms) is lovely.",
        "I saw www.casa-azul.example and loved it.",
        "Call me on 020 7946 0958 or write to sam@jengu.example.",
        "We could call your front desk at 21 123 4567.",
        "Reply to anna@casa-azul.example is fine too.",
        "Since 2019-2024 you grew; on 2025-03-02 we met; 12.05.2024 too.",
        "A plain note with no contact details at all, e.g. about 35 rooms.",
    ],
)
def test_the_campaigns_and_the_prospects_own_details_are_allowed(body):
    assert foreign(body) == []


@pytest.mark.parametrize(
    ("body", "finding"),
    [
        ("Pay here: https://evil.example/pay now.", "link https://evil.example/pay"),
        ("Book at https://cal.jengu.example/mallory", "link https://cal.jengu.example/mallory"),
        ("See evil.example/offer for details", "link evil.example/offer"),
        ("Go to https://casa-azul.example@evil.example/", "link https://casa-azul.example@"),
        ("Call +1 (555) 010-0199 today.", "phone number +1 (555) 010-0199"),
        ("Write to billing@evil.example please.", "e-mail address billing@evil.example"),
        ("Write to billing (at) evil (dot) com.", "e-mail address billing (at) evil (dot) com"),
        ("Please settle by wire transfer.", "payment request 'wire transfer'"),
        (
            "IBAN GB82 WEST 1234 5698 7654 32 thanks",
            "payment request 'GB82 WEST 1234 5698 7654 32'",
        ),
        (
            "Send 0x52908400098527886E0F7030069857D2E4169EE7 now",
            "payment request '0x52908400098527886E0F7030069857D2E4169EE7'",
        ),
    ],
)
def test_details_from_anywhere_else_are_found(body, finding):
    found = foreign(body)

    assert any(item.startswith(finding) for item in found), found


def test_payment_words_the_campaign_itself_uses_are_allowed():
    template = "We take PayPal and bank transfer for the pilot."

    assert foreign("Happy to take PayPal for the pilot.", template=template) == []
    assert foreign("Happy to take Venmo for the pilot.", template=template) == [
        "payment request 'Venmo'"
    ]


def test_a_long_hostile_draft_is_checked_in_bounded_work():
    body = ("a" * 60 + "." + "1-" * 40 + "{" * 30 + " x@") * 200  # ~40 KB of near-misses

    found = foreign(body)

    assert len(found) < 1000
