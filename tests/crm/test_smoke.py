import pytest

from crm.models import Prospect


@pytest.mark.django_db
def test_database_is_reachable():
    Prospect.objects.create(business_name="Hotel Test", email="a@b.com")
    assert Prospect.objects.count() == 1
