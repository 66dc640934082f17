"""prospects_upsert: inserted rows get ids, defaults and JSON columns right."""

import pytest

from crm.models import Prospect, Stage
from crm.upsert import RowError, prospect_row_clean, prospects_upsert

pytestmark = pytest.mark.django_db


def test_inserted_prospects_get_their_ids_and_every_column():
    rows = [
        prospect_row_clean(
            {"business_name": "Casa Azul", "email": "A@azul.example", "tags": "x;y"}
        ),
        prospect_row_clean({"business_name": "Casa Verde", "city": "Porto"}),
    ]

    summary = prospects_upsert(rows=rows, source="api")

    created = [outcome.prospect for outcome in summary.outcomes]
    assert [outcome.status for outcome in summary.outcomes] == ["created", "created"]
    assert all(prospect.pk for prospect in created)
    azul = Prospect.objects.get(pk=created[0].pk)
    assert (azul.email, azul.domain, azul.tags, azul.source) == (
        "a@azul.example",
        "azul.example",
        ["x", "y"],
        "api",
    )
    assert (azul.stage, azul.score, azul.enrichment) == (Stage.NEW, 0, {})
    assert azul.created_at == azul.updated_at is not None
    assert Prospect.objects.get(pk=created[1].pk).city == "Porto"


def test_new_ids_follow_the_sequence_used_by_ordinary_saves():
    first = prospects_upsert(rows=[prospect_row_clean({"business_name": "A"})], source="t")
    saved = Prospect.objects.create(business_name="B")
    assert saved.pk > first.outcomes[0].prospect.pk


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("Anna.B+news@Hotel-Azul.example", True),
        ('"anna..b"@hotel.example', True),
        ("anna@[192.0.2.1]", True),
        ("anna@localhost", True),
        ("anna..b@hotel.example", False),
        ("anna@-hotel.example", False),
        ("anna@hotel", False),
    ],
)
def test_emails_outside_the_plain_shape_are_still_judged_by_django(email, valid):
    row = {"business_name": "A", "email": email}
    if valid:
        assert prospect_row_clean(row)["email"] == email.lower()
    else:
        with pytest.raises(RowError, match="invalid e-mail"):
            prospect_row_clean(row)


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("www.Hotel-Azul.example", "hotel-azul.example"),
        ("http://hotel.example/rooms?lang=en#top", "hotel.example"),
        ("HTTPS://WWW.hotel.example", "hotel.example"),
        ("https://hotel.example:8443/", "hotel.example"),
        ("https://user@hotel.example", "hotel.example"),
    ],
)
def test_website_host_becomes_the_domain(website, domain):
    assert prospect_row_clean({"business_name": "A", "website": website})["domain"] == domain
