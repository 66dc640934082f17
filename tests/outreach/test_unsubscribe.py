"""Unsubscribe: GET confirms and changes nothing; POST (RFC 8058 one-click) suppresses."""

import pytest
from django.test import Client

from crm.models import Enrollment, Stage
from outreach.models import Suppression
from outreach.unsubscribe import unsubscribe_token, unsubscribe_url
from tests.factories import CampaignFactory, EnrollmentFactory, ProspectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled():
    prospect = ProspectFactory(email="anna@hotel.example", stage=Stage.CONTACTED)
    return EnrollmentFactory(prospect=prospect, campaign=CampaignFactory())


def path_for(email: str) -> str:
    return unsubscribe_url(email=email, base_url="")


def test_get_shows_a_confirmation_and_changes_nothing(client, enrolled):
    response = client.get(path_for("anna@hotel.example"))

    assert response.status_code == 200
    assert b"anna@hotel.example" in response.content and b'<form method="post"' in response.content
    assert not Suppression.objects.exists()
    enrolled.refresh_from_db()
    assert enrolled.status == Enrollment.Status.ACTIVE


def test_one_click_post_suppresses_without_cookies_or_csrf(enrolled):
    client = Client(enforce_csrf_checks=True)  # as a mail provider's POST arrives

    response = client.post(
        path_for("Anna@Hotel.example"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert Suppression.objects.filter(value="anna@hotel.example", kind="email").exists()
    enrolled.refresh_from_db()
    enrolled.prospect.refresh_from_db()
    assert enrolled.status == Enrollment.Status.STOPPED
    assert enrolled.prospect.stage == Stage.UNSUBSCRIBED


def test_a_second_post_is_harmless(client, enrolled):
    path = path_for("anna@hotel.example")
    client.post(path)
    response = client.post(path)

    assert response.status_code == 200
    assert Suppression.objects.count() == 1


def test_a_tampered_token_is_refused_and_changes_nothing(client, enrolled):
    token = unsubscribe_token(email="anna@hotel.example")
    forged = token[:-3] + ("abc" if token[-3:] != "abc" else "xyz")

    for method in (client.get, client.post):
        response = method(f"/u/{forged}/")
        assert response.status_code == 400
    assert not Suppression.objects.exists()


def test_a_token_for_another_purpose_is_refused(client):
    from django.core import signing

    other = signing.dumps("anna@hotel.example", salt="something-else")

    assert client.post(f"/u/{other}/").status_code == 400
    assert not Suppression.objects.exists()


def test_an_unknown_address_is_still_suppressed(client):
    client.post(path_for("stranger@elsewhere.example"))

    assert Suppression.objects.filter(value="stranger@elsewhere.example").exists()
