"""The scheduler's leadership against a real Valkey that is killed and restarted empty.

The unit tests drive `Leadership.tick()` by hand on a real APScheduler scheduler;
the process tests run `manage.py crontab` as an operator would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
import redis
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jengu.scheduler.leadership import LOCK_NAME, Leadership
from jengu.scheduler.management.commands.crontab import STOP_SIGNALS, stop_once
from tests.own_redis import OwnRedis
from tests.waiting import wait_for
from tests.worker_processes import scheduler_processes

ROOT = Path(__file__).resolve().parents[2]
TTL = 1.0


@pytest.fixture
def jobs():
    """A started, paused scheduler with an hourly interval job and a daily cron job.

    `scheduler.ran` lists the ids of the jobs that ran.
    """
    started: list[BackgroundScheduler] = []

    def make() -> BackgroundScheduler:
        scheduler = BackgroundScheduler()
        scheduler.ran = []
        scheduler.add_job(scheduler.ran.append, IntervalTrigger(hours=1), ["sweep"], id="sweep")
        scheduler.add_job(scheduler.ran.append, CronTrigger(hour=3), ["nightly"], id="nightly")
        scheduler.start(paused=True)
        started.append(scheduler)
        return scheduler

    yield make
    for scheduler in started:
        scheduler.shutdown(wait=False)


def leader(own_redis: OwnRedis, scheduler) -> Leadership:
    client = redis.Redis.from_url(own_redis.url, socket_timeout=1, socket_connect_timeout=1)
    return Leadership(client, scheduler, ttl=TTL, interval=0.1)


def test_one_leads_and_the_other_stands_by_with_its_jobs_paused(own_redis, jobs):
    first, second = leader(own_redis, jobs()), leader(own_redis, jobs())

    first.tick()
    second.tick()

    assert first.leading and first.scheduler.state == STATE_RUNNING
    assert not second.leading and second.scheduler.state == STATE_PAUSED


def test_taking_the_lead_runs_interval_jobs_now_and_cron_jobs_at_their_time(own_redis, jobs):
    scheduler = jobs()
    before = datetime.now(scheduler.timezone)

    leader(own_redis, scheduler).tick()

    wait_for(lambda: scheduler.ran == ["sweep"], 5, "the interval job to catch up")
    nightly = scheduler.get_job("nightly")
    assert nightly.next_run_time == nightly.trigger.get_next_fire_time(None, before)


@pytest.mark.parametrize(
    "fault",
    [
        "restart_empty",  # the lock is gone: taken back in the same round
        "stop",  # unreachable for less than the lock's TTL: nobody else can have it
    ],
)
def test_the_leader_keeps_leading_through_a_redis_restart_or_a_short_cut(own_redis, jobs, fault):
    first = leader(own_redis, jobs())
    first.tick()

    getattr(own_redis, fault)()
    first.tick()

    assert first.leading and first.scheduler.state == STATE_RUNNING


def test_cut_off_for_a_whole_ttl_the_leader_pauses_and_a_newcomer_may_lead(own_redis, jobs):
    first, second = leader(own_redis, jobs()), leader(own_redis, jobs())
    first.tick()
    own_redis.stop()
    time.sleep(TTL + 0.1)

    first.tick()  # Redis still away: the lock may be anyone's by now
    assert not first.leading and first.scheduler.state == STATE_PAUSED
    own_redis.start()
    second.tick()  # the other scheduler reaches Redis first
    first.tick()

    assert second.leading and not first.leading
    assert first.scheduler.state == STATE_PAUSED


def test_a_stopped_leader_gives_up_the_lock_and_the_standby_takes_over(own_redis, jobs):
    first, second = leader(own_redis, jobs()), leader(own_redis, jobs())
    first.tick()
    second.tick()

    first.stop()
    second.tick()

    assert second.leading and second.scheduler.state == STATE_RUNNING


# --- `manage.py crontab` processes -------------------------------------------------


@pytest.fixture
def crontab(own_redis, transactional_db, tmp_path):
    """Start `manage.py crontab` processes on the test's own Redis."""
    with scheduler_processes(log_dir=tmp_path, env={"REDIS_URL": own_redis.url}) as start:
        yield start


def said(process: subprocess.Popen, text: str, times: int = 1) -> bool:
    return process.log_path.read_text().count(text) >= times


@pytest.mark.slow
def test_the_scheduler_process_keeps_leading_through_a_redis_restart(own_redis, crontab):
    process = crontab()
    wait_for(lambda: said(process, "scheduler: leading"), 60, "the scheduler to lead")

    own_redis.restart_empty()

    wait_for(lambda: said(process, "scheduler: leading", 2), 60, "the scheduler to lead again")
    assert process.poll() is None and said(process, "lost the leader lock")
    assert redis.Redis.from_url(own_redis.url).get(LOCK_NAME) is not None


@pytest.mark.slow
def test_two_scheduler_processes_one_leads_and_the_other_takes_over_when_it_dies(crontab):
    first = crontab()
    wait_for(lambda: said(first, "scheduler: leading"), 60, "the first to lead")
    second = crontab()
    wait_for(lambda: said(second, "standing by"), 60, "the second to stand by")

    os.killpg(first.pid, signal.SIGKILL)  # its lock expires after one TTL

    wait_for(lambda: said(second, "scheduler: leading"), 60, "the second to take over")
    assert second.poll() is None


def test_after_the_first_stop_signal_the_others_are_ignored_until_shutdown_ends():
    # A supervisor often signals the process group and then the process: the second
    # signal must not interrupt the shutdown the first began.
    saved = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    try:
        with pytest.raises(KeyboardInterrupt):
            stop_once(signal.SIGTERM, None)
        assert all(signal.getsignal(signum) == signal.SIG_IGN for signum in STOP_SIGNALS)
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
