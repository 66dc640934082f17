"""JENGU_REGIONS: parsing, which region a timezone is in, queue names, routing around
a down region, and what a single-region install keeps (nothing changes)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from jengu.bus import emit
from jengu.heartbeats import WORKERS_KEY, WorkerBeat, heartbeats_fresh
from jengu.metrics import redis_client
from jengu.region_config import (
    RegionConfigError,
    nearest_region,
    parse_regions,
    queue_region,
    region_queue,
)
from jengu.regions import liveness_cache, regional_queues, route, worker_queues
from tests.regions import REGION_ENV
from tests.waiting import wait_for
from tests.worker_processes import ROOT, manage_processes, process_env

THREE = parse_regions("us-east,eu-west,asia-pacific")


def beat(queues: list[str], *, worker: str = "host:1", age: float = 0.0) -> None:
    """A worker's heartbeat as `jengu.workers.WorkerHeartbeat` writes it."""
    value = {"ts": time.time() - age, "host": "host", "pid": 1, "queues": queues}
    redis_client().hset(WORKERS_KEY, worker, json.dumps(value))
    liveness_cache.clear()


def test_known_names_get_their_home_and_own_names_give_one():
    regions = parse_regions(" us-east , fra=Europe/Berlin,")

    assert [(r.name, r.home) for r in regions] == [
        ("us-east", "America/New_York"),
        ("fra", "Europe/Berlin"),
    ]
    assert parse_regions("") == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("mars", "no known home timezone: write it as mars=Area/City"),
        ("eu.west", "lowercase letters and digits joined by hyphens"),
        ("EU-WEST", "lowercase letters and digits joined by hyphens"),
        ("eu-west,eu-west", "eu-west is listed twice"),
        ("fra=Europe/Frankfurt", "unknown timezone 'Europe/Frankfurt'"),
    ],
)
def test_a_bad_value_is_refused_with_the_reason(value, reason):
    with pytest.raises(RegionConfigError, match=reason):
        parse_regions(value)


def test_a_process_with_a_bad_value_refuses_to_start_naming_the_variable():
    env = {"JENGU_REGIONS": "eu.west", "DJANGO_SETTINGS_MODULE": "jengu.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://x@127.0.0.1:1/x",
             "REDIS_URL": "redis://127.0.0.1:1/0"},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "JENGU_REGIONS: region name 'eu.west' must be lowercase" in done.stderr


@pytest.mark.parametrize(
    ("timezone", "region"),
    [
        ("America/Los_Angeles", "us-east"),  # -8: 3 h from New York, 8 from Dublin and Singapore
        ("Pacific/Honolulu", "us-east"),
        ("America/Sao_Paulo", "us-east"),
        ("Europe/Lisbon", "eu-west"),
        ("Africa/Lagos", "eu-west"),
        ("Asia/Dubai", "eu-west"),  # +4: as far from Dublin as from Singapore; the earlier wins
        ("Asia/Kolkata", "asia-pacific"),
        ("Asia/Tokyo", "asia-pacific"),
        ("Pacific/Auckland", "asia-pacific"),  # +12: 4 h from Singapore, 7 from New York
        ("", "us-east"),  # none: the default
        ("Not/AZone", "us-east"),
    ],
)
def test_a_timezone_belongs_to_the_region_with_the_nearest_home(timezone, region):
    assert nearest_region(timezone, THREE).name == region


def test_daylight_saving_time_never_moves_a_prospect():
    # Sydney is +11 in January and +10 in July; its standard offset is +10 all year.
    regions = parse_regions("ap-northeast,au-east=Australia/Brisbane")
    assert nearest_region("Australia/Sydney", regions).name == "au-east"


def test_queue_names_put_the_region_after_the_stage_with_a_hyphen():
    assert region_queue("send", "eu-west") == "send-eu-west"
    assert region_queue("send", None) == "send"
    assert region_queue("reply", "eu-west") == "reply"  # a shared stage
    assert queue_region("send-eu-west") == "eu-west"
    assert queue_region("scheduled") is None


@pytest.mark.usefixtures("two_regions")
def test_a_worker_for_a_region_consumes_its_queues_and_the_shared_ones(settings):
    assert worker_queues(["eu-west"]) == [
        "enrich-eu-west",
        "compose-eu-west",
        "send-eu-west",
        *[q for q in settings.JENGU_QUEUES if q not in ("enrich", "compose", "send")],
    ]
    # The default region's workers also drain the plain queues (from before regions).
    assert {"enrich", "compose", "send"} <= set(worker_queues(["us-east"]))
    with pytest.raises(ValueError, match="unknown region mars; configured: us-east, eu-west"):
        worker_queues(["mars"])


@pytest.mark.usefixtures("two_regions")
def test_a_down_queue_routes_to_the_first_region_whose_workers_beat():
    # Given workers beating for both regions' send queues
    beat(["send-us-east"], worker="us:1")
    beat(["send-eu-west"], worker="eu:1")
    assert route("send", "eu-west") == "send-eu-west"
    # When eu-west's worker stops beating (older than JENGU_REGION_DOWN_SECONDS)
    beat(["send-eu-west"], worker="eu:1", age=5)
    # Then its sends go to us-east, and only its sends
    assert route("send", "eu-west") == "send-us-east"
    assert route("compose", "eu-west") == "compose-eu-west"  # no compose worker beats anywhere
    assert route("reply", "eu-west") == "reply"  # shared stage
    assert route("send", None) == "send-us-east"  # no region: the default one
    assert route("send", "gone-region") == "send-us-east"  # no longer configured: default


@pytest.mark.usefixtures("two_regions")
def test_with_no_region_alive_work_waits_in_its_own_region():
    beat(["send-us-east"], worker="us:1", age=5)
    beat(["send-eu-west"], worker="eu:1", age=5)

    assert route("send", "eu-west") == "send-eu-west"


@pytest.mark.usefixtures("two_regions")
def test_heartbeats_unreadable_route_as_before(monkeypatch):
    import redis

    def down():
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr("jengu.regions.heartbeats_fresh", lambda **_: down())
    liveness_cache.clear()

    assert route("send", "eu-west") == "send-eu-west"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("two_regions")
def test_emit_puts_an_event_on_the_queue_of_the_region_it_names(broker):
    emit("TestDownstream", {"key": "k"}, region="eu-west")
    emit("TestDownstream", {"key": "k"})  # no region and no `region_of`: the default region

    assert broker.do_qsize("send-eu-west") == 1
    assert broker.do_qsize("send-us-east") == 1
    assert broker.do_qsize("send") == 0


@pytest.mark.django_db(transaction=True)
def test_without_regions_nothing_changes(broker, settings):
    assert settings.JENGU_REGIONS == ()
    assert regional_queues() == []
    assert route("send", "eu-west") == "send"

    emit("TestDownstream", {"key": "k"}, region="eu-west")

    assert broker.do_qsize("send") == 1
    assert broker.do_qsize("send-eu-west") == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("two_regions")
def test_rundramatiq_regions_starts_a_worker_on_that_regions_queues(tmp_path):
    args = ["rundramatiq", "--regions", "eu-west", "--processes", "1", "--threads", "1"]
    with manage_processes(log_dir=tmp_path, args=args, env=REGION_ENV) as start:
        process = start()

        def eu_beat() -> list[WorkerBeat]:
            return [b for b in heartbeats_fresh(max_age_seconds=5) if b.regions == ["eu-west"]]

        wait_for(lambda: eu_beat() != [], 60, "the eu-west worker's heartbeat")
        assert sorted(eu_beat()[0].queues) == sorted(worker_queues(["eu-west"]))
        assert process.poll() is None


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (["--regions", "mars"], REGION_ENV, "unknown region mars; configured: us-east, eu-west"),
        (["--regions", "eu-west"], {}, "configured: none (JENGU_REGIONS is unset)"),
        (["--regions", "eu-west", "--queues", "send"], REGION_ENV, "--regions or --queues"),
    ],
)
@pytest.mark.django_db
def test_rundramatiq_refuses_regions_it_cannot_serve(args, env, error):
    done = subprocess.run(
        [sys.executable, "manage.py", "rundramatiq", *args],
        cwd=ROOT,
        env=process_env({"JENGU_REGIONS": "", **env}),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert error in done.stderr
