"""API key scopes: every operation refuses a key without its scope (403), and lets one
with exactly that scope through. Old keys and the key command keep working."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jengu.apikeys.keys import api_key_authenticate, api_key_create
from jengu.apikeys.models import ApiKey
from jengu.apikeys.scopes import ALL_SCOPES
from jengu.events.models import DeadLetter
from tests.api.conftest import ApiClient
from tests.factories import (
    CampaignFactory,
    CampaignStepFactory,
    InboxFactory,
    ProspectFactory,
    webhook_dead_letter,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ids():
    inbox = InboxFactory()
    campaign = CampaignFactory(status="draft")
    campaign.inboxes.add(inbox)
    CampaignStepFactory(campaign=campaign)
    letter = webhook_dead_letter()
    return {
        "prospect": ProspectFactory(email="casa@azul.example").pk,
        "campaign": campaign.pk,
        "inbox": inbox.pk,
        "dead_letter": letter.pk,
    }


# (method, path, body, scope needed)
OPERATIONS = [
    ("get", "/prospects", None, "read"),
    ("get", "/prospects/{prospect}", None, "read"),
    ("get", "/campaigns/{campaign}/stats", None, "read"),
    ("get", "/inboxes", None, "read"),
    ("get", "/messages", None, "read"),
    ("get", "/metrics/summary", None, "read"),
    ("get", "/dead-letters", None, "read"),
    ("post", "/prospects", {"business_name": "Hotel Sol"}, "prospects:write"),
    ("patch", "/prospects/{prospect}", {"city": "Porto"}, "prospects:write"),
    ("post", "/prospects/bulk", {"prospects": [{"business_name": "Casa"}]}, "prospects:write"),
    ("post", "/prospects/{prospect}/enrich", None, "prospects:write"),
    ("delete", "/prospects/{prospect}", None, "prospects:write"),
    ("post", "/campaigns", {"name": "Winter"}, "campaigns:write"),
    ("patch", "/campaigns/{campaign}", {"window_start_hour": 10}, "campaigns:write"),
    (
        "post",
        "/inboxes",
        {"email": "ana@hotel.example", "smtp_host": "smtp.hotel.example"},
        "campaigns:write",
    ),  # fmt: skip
    ("patch", "/inboxes/{inbox}", {"daily_limit": 20}, "campaigns:write"),
    ("post", "/campaigns/{campaign}/enroll", {"prospect_ids": []}, "send"),
    ("post", "/dead-letters/{dead_letter}/requeue", None, "send"),
    ("post", "/dead-letters/{dead_letter}/discard", {"note": "known"}, "send"),
]


def call(client, scopes: list[str], method: str, path: str, body, ids: dict):
    api = ApiClient(client, api_key_create(name="scoped", scopes=scopes).key)
    if body and "prospect_ids" in body:
        body = {"prospect_ids": [ids["prospect"]]}
    url = path.format(**ids)
    return getattr(api, method)(url) if body is None else getattr(api, method)(url, body)


@pytest.mark.parametrize(("method", "path", "body", "scope"), OPERATIONS)
def test_a_key_without_the_scope_gets_403_and_changes_nothing(
    client, ids, method, path, body, scope
):
    others = [s for s in ALL_SCOPES if s != scope]
    before = {model: model.objects.count() for model in (ApiKey, DeadLetter)}

    response = call(client, others, method, path, body, ids)

    assert response.status_code == 403
    assert repr(scope) in response.json()["detail"] or "read-only" in response.json()["detail"]
    assert DeadLetter.objects.get(pk=ids["dead_letter"]).requeue_count == 0
    assert DeadLetter.objects.count() == before[DeadLetter]


@pytest.mark.parametrize(("method", "path", "body", "scope"), OPERATIONS)
def test_a_key_with_only_that_scope_gets_through(client, ids, method, path, body, scope):
    response = call(client, [scope], method, path, body, ids)

    assert response.status_code in (200, 201, 202, 204), response.content[:500]


def test_activating_a_campaign_needs_send_as_well_as_campaigns_write(client, ids):
    activate = {"status": "active"}
    path = f"/campaigns/{ids['campaign']}"

    manage_only = call(client, ["campaigns:write"], "patch", path, activate, ids)
    send_only = call(client, ["send"], "patch", path, activate, ids)
    both = call(client, ["campaigns:write", "send"], "patch", path, activate, ids)

    assert (manage_only.status_code, send_only.status_code) == (403, 403)
    assert "'send' scope" in manage_only.json()["detail"]
    assert both.status_code == 200 and both.json()["status"] == "active"


def test_creating_an_active_campaign_needs_send(client, ids):
    body = {"name": "Straight to active", "status": "active"}

    response = call(client, ["campaigns:write"], "post", "/campaigns", body, ids)

    assert response.status_code == 403


def test_a_write_only_key_cannot_read(client, ids):
    response = call(client, ["prospects:write"], "get", "/prospects", None, ids)

    assert response.status_code == 403
    assert "'read' scope" in response.json()["detail"]


def test_a_read_only_key_still_says_so(read_only_api: ApiClient):
    response = read_only_api.post("/prospects", {"business_name": "Hotel Sol"})

    assert response.status_code == 403
    assert response.json() == {"detail": "this API key is read-only"}


# --- the command and existing keys --------------------------------------------------


def create_key(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_without_options_makes_a_key_with_every_scope_printed_last():
    out, err = create_key("website form")

    key = out.strip().splitlines()[-1]
    assert api_key_authenticate(key=key).scopes == list(ALL_SCOPES)
    assert "read, prospects:write, campaigns:write, send" in err


def test_the_command_makes_read_only_and_scoped_keys():
    read_only = create_key("BI", "--read-only")[0].strip().splitlines()[-1]
    form = create_key("form", "--scopes", "prospects:write,read")[0].strip().splitlines()[-1]

    assert api_key_authenticate(key=read_only).scopes == ["read"]
    assert api_key_authenticate(key=form).scopes == ["read", "prospects:write"]


@pytest.mark.parametrize("scopes", ["admin", "read,everything", " , "])
def test_the_command_refuses_unknown_or_no_scopes(scopes):
    with pytest.raises(CommandError):
        create_key("bad", "--scopes", scopes)
    assert not ApiKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_keys_made_before_scopes_keep_what_they_could_do():
    before_scopes = [("apikeys", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before_scopes)
    try:
        OldKey = executor.loader.project_state(before_scopes).apps.get_model("apikeys", "ApiKey")
        OldKey.objects.create(name="rw", prefix="jk_rw", key_hash="a" * 64, read_only=False)
        OldKey.objects.create(name="ro", prefix="jk_ro", key_hash="b" * 64, read_only=True)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    scopes = dict(ApiKey.objects.values_list("name", "scopes"))
    assert scopes == {"rw": list(ALL_SCOPES), "ro": ["read"]}
