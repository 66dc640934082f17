"""Keys, read-only keys, rate limit, body size and error shape."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from jengu.apikeys.keys import api_key_create, api_keys_revoke
from jengu.apikeys.models import ApiKey
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_request_without_key_gets_401_json(anonymous: ApiClient) -> None:
    response = anonymous.get("/prospects")
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["detail"]


def test_wrong_key_gets_401(client) -> None:
    for key in ("jk_not-a-real-key", "nonsense", "jk_" + "x" * 500):
        assert ApiClient(client, key).get("/prospects").status_code == 401


def test_revoked_key_stops_working(client) -> None:
    created = api_key_create(name="old integration")
    api = ApiClient(client, created.key)
    assert api.get("/prospects").status_code == 200
    api_keys_revoke(api_keys=ApiKey.objects.filter(pk=created.api_key.pk))
    assert api.get("/prospects").status_code == 401


def test_read_only_key_reads_but_cannot_write(read_only_api: ApiClient) -> None:
    assert read_only_api.get("/prospects").status_code == 200
    response = read_only_api.post("/prospects", {"business_name": "Hotel Sol"})
    assert response.status_code == 403
    assert response.json() == {"detail": "this API key is read-only"}


def test_key_is_stored_hashed_only() -> None:
    created = api_key_create(name="crm sync")
    stored = ApiKey.objects.get(pk=created.api_key.pk)
    assert created.key not in {stored.prefix, stored.key_hash, stored.name}
    assert stored.key_hash == hashlib.sha256(created.key.encode()).hexdigest()


def test_last_used_is_recorded_at_most_once_a_minute(api: ApiClient) -> None:
    key = ApiKey.objects.get()
    assert key.last_used_at is None
    api.get("/prospects")
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    api.get("/prospects")
    assert ApiKey.objects.get().last_used_at == first
    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    api.get("/prospects")
    assert ApiKey.objects.get().last_used_at > first - timedelta(minutes=1)


def test_rate_limit_answers_429_with_retry_after(api: ApiClient, settings) -> None:
    settings.API_RATE_LIMIT_BURST = 3
    settings.API_RATE_LIMIT_PER_SECOND = 0.01
    statuses = [api.get("/prospects").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/prospects")
    assert response.status_code == 429
    assert response["Retry-After"] == "100"
    assert response.json()["detail"]


def test_rate_limit_is_per_key(client, api: ApiClient, settings) -> None:
    settings.API_RATE_LIMIT_BURST = 1
    settings.API_RATE_LIMIT_PER_SECOND = 0.01
    other = ApiClient(client, api_key_create(name="other").key)
    assert api.get("/prospects").status_code == 200
    assert api.get("/prospects").status_code == 429
    assert other.get("/prospects").status_code == 200


def test_body_over_the_limit_gets_413(api: ApiClient, settings) -> None:
    settings.API_MAX_BODY_BYTES = 1000
    response = api.post("/prospects", {"business_name": "x", "notes": "n" * 2000})
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["detail"]


def test_malformed_json_gets_400_json(api: ApiClient) -> None:
    response = api.post("/prospects", "{not json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}


def test_unknown_id_gets_404_json(api: ApiClient) -> None:
    for path in ("/prospects/999999", "/campaigns/999999", "/inboxes/999999", "/messages/999999"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}


def test_id_beyond_bigint_is_a_422_not_a_database_error(api: ApiClient) -> None:
    assert api.get(f"/prospects/{2**70}").status_code == 422


def test_openapi_and_docs_are_public(anonymous: ApiClient, client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "X-API-Key"
    assert "409" in schema["paths"]["/api/v1/prospects"]["post"]["responses"]
    assert client.get("/api/v1/docs").status_code == 200


def test_create_api_key_prints_the_key_as_last_line() -> None:
    out, err = StringIO(), StringIO()
    call_command("create_api_key", "website form", "--read-only", stdout=out, stderr=err)
    key = out.getvalue().strip().splitlines()[-1]
    api_key = ApiKey.objects.get()
    assert api_key.name == "website form" and api_key.read_only
    assert key.startswith(api_key.prefix)
    assert api_key.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in err.getvalue()
