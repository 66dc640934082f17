"""Read replicas against a real streaming replica: reads follow health and lag, writers
read their own writes, credentials and pipeline work stay on the primary."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client

from crm.models import Prospect
from jengu.apikeys.keys import api_key_create, api_keys_revoke
from jengu.apikeys.models import ApiKey
from jengu.db_router import PIN_COOKIE, ReplicaRouter, monitor, replica_reads
from tests.api.conftest import ApiClient
from tests.factories import ProspectFactory
from tests.replica_pair import ReplicaUnavailable, StreamingReplica
from tests.waiting import wait_for

REPLICA = "replica_1"
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker) -> Iterator[StreamingReplica]:
    """One primary/replica pair for the module: the suite's database and its copy."""
    with django_db_blocker.unblock():
        try:
            replica = StreamingReplica(dict(connections["default"].settings_dict))
            replica.create()
        except ReplicaUnavailable as exc:
            pytest.skip(str(exc))
    # Django's connection handler reads the settings' own DATABASES dict.
    assert connections.settings is django_settings.DATABASES
    django_settings.DATABASES[REPLICA] = replica.settings_dict
    yield replica
    connections[REPLICA].close()
    del django_settings.DATABASES[REPLICA]
    replica.destroy()


@pytest.fixture
def replica(pair, settings) -> Iterator[StreamingReplica]:
    """The replica running, replaying at once and caught up; health measured afresh."""
    if not pair.running():
        pair.start()
    settings.DATABASE_REPLICAS = [REPLICA]
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 60
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    monitor.forget()
    pair.wait_caught_up()
    yield pair
    if pair.running():
        pair.execute("ALTER SYSTEM RESET recovery_min_apply_delay")
        pair.execute("SELECT pg_reload_conf()")
        pair.execute("SELECT pg_wal_replay_resume()")
    monitor.forget()


@pytest.fixture
def api(client: Client) -> ApiClient:
    return ApiClient(client, api_key_create(name="replica tests").key)


def pause_replay(replica: StreamingReplica) -> None:
    replica.execute("SELECT pg_wal_replay_pause()")
    wait_for(
        lambda: replica.execute("SELECT pg_get_wal_replay_pause_state()")[0] == "paused",
        10,
        "replay to pause",
    )


def rename(prospect: Prospect, name: str) -> None:
    Prospect.objects.filter(pk=prospect.pk).update(business_name=name)


def test_a_get_reads_the_replica_and_a_browser_that_wrote_reads_the_primary(replica, api):
    # Given the replica has not replayed the primary's latest change yet
    prospect = ProspectFactory(business_name="Old name")
    replica.wait_caught_up()
    pause_replay(replica)
    rename(prospect, "New name")
    # When a client reads it, it sees the replica's (older) copy
    assert api.get(f"/prospects/{prospect.pk}").json()["business_name"] == "Old name"
    # Then once that client writes, it is pinned to the primary by a cookie
    written = api.patch(f"/prospects/{prospect.pk}", {"city": "Porto"})
    assert written.status_code == 200
    assert written.cookies[PIN_COOKIE]["max-age"] == django_settings.DATABASE_REPLICA_PIN_SECONDS
    assert api.get(f"/prospects/{prospect.pk}").json()["business_name"] == "New name"
    # ...while another client still reads the replica
    other = ApiClient(Client(), api.headers["X-API-Key"])
    assert other.get(f"/prospects/{prospect.pk}").json()["business_name"] == "Old name"


def test_a_scope_that_wrote_reads_its_own_writes_from_the_primary(replica):
    prospect = ProspectFactory(business_name="Old name")
    replica.wait_caught_up()
    pause_replay(replica)

    with replica_reads() as scope:
        assert Prospect.objects.get(pk=prospect.pk).business_name == "Old name"
        rename(prospect, "Mine")
        assert Prospect.objects.get(pk=prospect.pk).business_name == "Mine"

    assert scope.replica == REPLICA and scope.wrote


def test_pipeline_work_outside_a_request_reads_the_primary(replica):
    router = ReplicaRouter()
    # Actors, the scheduler and commands run outside any read scope: always the primary.
    assert router.db_for_read(Prospect) == "default"
    with replica_reads():
        assert router.db_for_read(Prospect) == REPLICA
        # Credentials are never read from a replica.
        assert router.db_for_read(ApiKey) == "default"


def test_a_revoked_api_key_stops_working_at_once_even_when_the_replica_lags(replica, api):
    replica.wait_caught_up()
    pause_replay(replica)

    api_keys_revoke(api_keys=ApiKey.objects.all())

    assert api.get("/prospects").status_code == 401


def test_a_replica_that_lags_too_far_is_skipped_until_it_catches_up(replica, api, client, settings):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 1
    prospect = ProspectFactory(business_name="Old name")
    replica.wait_caught_up()
    # Given the replica applies what it receives only 30 s late
    replica.execute("ALTER SYSTEM SET recovery_min_apply_delay = '30s'")
    replica.execute("SELECT pg_reload_conf()")
    rename(prospect, "New name")
    # When its lag passes the limit
    wait_for(lambda: not any(s.healthy for s in monitor.states()), 10, "the replica to lag")
    # Then reads go to the primary, and /health and /metrics say why
    assert api.get(f"/prospects/{prospect.pk}").json()["business_name"] == "New name"
    report = client.get("/health").json()["components"]["replicas"]
    assert report["status"] == "degraded"
    assert report["replicas"][REPLICA]["lag_seconds"] > 1
    metrics = client.get("/metrics").content.decode()
    assert f'jengu_replica_healthy{{replica="{REPLICA}"}} 0.0' in metrics
    # And once the delay is lifted and it has caught up, it takes reads again
    replica.execute("ALTER SYSTEM RESET recovery_min_apply_delay")
    replica.execute("SELECT pg_reload_conf()")
    replica.wait_caught_up()
    assert all(s.healthy for s in monitor.states())
    pause_replay(replica)
    rename(prospect, "Newer name")
    assert api.get(f"/prospects/{prospect.pk}").json()["business_name"] == "New name"


def test_an_idle_replica_that_replayed_everything_is_current_however_old_the_last_commit(
    replica, settings
):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.3
    ProspectFactory()
    replica.wait_caught_up()
    time.sleep(0.6)
    # The naive measure (age of the last replayed commit) would call it 0.6 s behind...
    assert replica.execute("SELECT now() - pg_last_xact_replay_timestamp() > '0.3s'")[0]
    # ...but it has replayed all it received: it is current.
    (state,) = monitor.states()
    assert (state.healthy, state.lag_seconds) == (True, 0.0)


def test_a_replica_stopped_mid_test_is_skipped_and_requests_still_succeed(
    replica, api, client, settings
):
    # Health is cached for an hour: the failure must be noticed by the request itself.
    settings.DATABASE_REPLICA_CHECK_SECONDS = 3600
    prospect = ProspectFactory(business_name="Hotel Alfama")
    replica.wait_caught_up()
    assert api.get(f"/prospects/{prospect.pk}").status_code == 200
    assert [s.healthy for s in monitor.states()] == [True]

    replica.stop()

    response = api.get(f"/prospects/{prospect.pk}")
    assert response.status_code == 200
    assert response.json()["business_name"] == "Hotel Alfama"
    (state,) = monitor.states()
    assert not state.healthy and state.error
    report = client.get("/health").json()
    assert report["components"]["replicas"]["status"] == "degraded"
    assert report["components"]["database"]["status"] == "healthy"
