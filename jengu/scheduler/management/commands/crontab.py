"""`manage.py crontab`: dramatiq-crontab's command, leading through Redis losses.

The library's command is subclassed, not forked: its options, task loading and
heartbeat are kept; only how the lock is held changes (see
`jengu.scheduler.leadership`). Without `DRAMATIQ_CRONTAB["REDIS_URL"]` there is
no lock to keep and the library's command runs as it is.
"""

from __future__ import annotations

import importlib
import signal
from typing import Any

import redis
from apscheduler.events import EVENT_SCHEDULER_STARTED
from dramatiq_crontab import conf, scheduler
from dramatiq_crontab.management.commands import crontab

from jengu.scheduler.leadership import Leadership

# Seconds to wait for Redis on one lock command: a hung Redis must not hang the keeper.
REDIS_TIMEOUT_SECONDS = 2
STOP_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)


def stop_once(signum: int, frame: Any) -> None:
    """The library's soft stop, once: a supervisor often signals twice (the group, then
    the process), and the second must not interrupt the shutdown the first began."""
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    crontab.kill_softly(signum, frame)


class Command(crontab.Command):
    help = (
        "Run the cron scheduler. Safe to run several: one leads, the others stand by, "
        "and the leader takes its lock back after Redis lost it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        settings = conf.get_settings()
        if not settings.REDIS_URL:
            super().handle(*args, **options)
            return
        if not options["no_task_loading"]:
            self.load_tasks(options)
        if not options["no_heartbeat"]:
            importlib.import_module("dramatiq_crontab.tasks")
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        leadership = Leadership(
            client,
            scheduler,
            ttl=settings.LOCK_TIMEOUT,
            interval=settings.LOCK_REFRESH_INTERVAL,
        )
        self.run(leadership)

    def run(self, leadership: Leadership) -> None:
        """Start the jobs paused; the leadership thread resumes them once it leads."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, stop_once)
        scheduler.add_listener(lambda event: leadership.run_in_thread(), EVENT_SCHEDULER_STARTED)
        self.stdout.write(self.style.SUCCESS("Starting scheduler…"))
        try:
            scheduler.start(paused=True)
        except KeyboardInterrupt as exc:
            self.stdout.write(self.style.WARNING(str(exc)))
            self.stdout.write(self.style.NOTICE("Shutting down scheduler…"))
            leadership.stop()
            scheduler.shutdown()
