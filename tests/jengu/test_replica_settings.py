"""Read-replica settings and the lag rule, without a server."""

from __future__ import annotations

import pytest

from jengu.db_router import replica_lag
from jengu.settings.base import database_settings


def test_replica_urls_become_read_only_aliases_the_test_runner_leaves_alone():
    databases = database_settings(
        "postgres://app@primary.internal/jengu",
        ["postgres://app@replica-a.internal/jengu", "postgres://app@replica-b.internal/jengu"],
    )
    assert list(databases) == ["default", "replica_1", "replica_2"]
    assert databases["replica_2"]["HOST"] == "replica-b.internal"
    assert databases["replica_1"]["TEST"] == {"MIRROR": "default"}
    assert databases["replica_1"]["OPTIONS"]["connect_timeout"] == 2


@pytest.mark.parametrize(
    ("in_recovery", "receiving", "caught_up", "replay_age", "lag"),
    [
        (False, False, False, None, 0.0),  # a primary (or a promoted replica)
        (True, True, True, 900.0, 0.0),  # idle primary, replica current
        (True, True, False, 4.5, 4.5),  # replay behind what was received
        (True, False, True, 120.0, 120.0),  # stream down: it cannot know what it misses
        (True, False, False, None, None),  # never replayed anything: unknown
    ],
)
def test_lag_is_measured_from_replay_position_and_time(
    in_recovery, receiving, caught_up, replay_age, lag
):
    assert replica_lag(in_recovery, receiving, caught_up, replay_age) == lag
