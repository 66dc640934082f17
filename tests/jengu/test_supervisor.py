"""`make run`'s supervisor with real child processes and a clock the test moves."""

from __future__ import annotations

import sys

import pytest

from jengu.supervisor import STABLE_SECONDS, Supervisor

DIES = [sys.executable, "-c", "import sys; sys.exit(3)"]
LIVES = [sys.executable, "-c", "import time; time.sleep(60)"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def supervised():
    made: list[Supervisor] = []

    def make(**commands: list[str]) -> tuple[Supervisor, Clock, list[str]]:
        clock, lines = Clock(), []
        supervisor = Supervisor(commands, env={}, clock=clock, log=lines.append)
        supervisor.start_all()
        made.append(supervisor)
        return supervisor, clock, lines

    yield make
    for supervisor in made:
        supervisor.stop_all()


def child(supervisor: Supervisor, name: str):
    return next(c for c in supervisor.children if c.name == name)


def exited(supervisor: Supervisor, name: str) -> int:
    return child(supervisor, name).process.wait(timeout=30)


def test_a_process_that_keeps_dying_is_restarted_with_growing_backoff_the_rest_run_on(
    supervised,
):
    supervisor, clock, lines = supervised(scheduler=DIES, web=LIVES)
    web = child(supervisor, "web").process
    pids = [child(supervisor, "scheduler").process.pid]

    delays = []
    for _ in range(4):
        exited(supervisor, "scheduler")
        supervisor.check()  # notices the exit, schedules the restart
        delays.append(child(supervisor, "scheduler").restart_at - clock.now)
        clock.now += delays[-1] - 0.01
        supervisor.check()  # not yet
        assert child(supervisor, "scheduler").process.pid == pids[-1]
        clock.now += 0.01
        supervisor.check()  # now
        pids.append(child(supervisor, "scheduler").process.pid)

    assert delays == [1, 2, 4, 8] and len(set(pids)) == 5
    assert lines[0] == (
        "[devrun] scheduler exited with 3 after 0 s; restarting in 1 s (restart 1 in a row)"
    )
    assert len(lines) == 4 and web.poll() is None


def test_a_process_that_ran_a_while_before_dying_starts_again_from_the_first_backoff(
    supervised,
):
    supervisor, clock, lines = supervised(worker=DIES)
    for _ in range(3):  # three quick deaths: the next wait would be 8 s
        exited(supervisor, "worker")
        supervisor.check()
        clock.now = child(supervisor, "worker").restart_at
        supervisor.check()

    clock.now += STABLE_SECONDS  # the fourth run lasted a minute
    exited(supervisor, "worker")
    supervisor.check()

    assert child(supervisor, "worker").restart_at - clock.now == 1
    assert lines[-1].endswith("restarting in 1 s (restart 1 in a row)")


def test_stop_all_ends_every_child(supervised):
    supervisor, _, _ = supervised(web=LIVES, worker=LIVES)

    supervisor.stop_all()

    assert all(c.process.poll() is not None for c in supervisor.children)
