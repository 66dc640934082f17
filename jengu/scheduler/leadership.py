"""Leading the cron schedule through Redis restarts, failovers and evictions.

dramatiq-crontab holds a Redis lock while its scheduler runs and exits as soon
as the lock is gone, which is what a Redis restart does to it; and a second
scheduler exits at once instead of standing by. Here the scheduler keeps
running and only its jobs stop:

- leading: the lock is extended every refresh interval; jobs run;
- the lock is lost (Redis answers it is not ours: it restarted empty, failed
  over, evicted the key, or another scheduler took it after we were cut off for
  a whole lock TTL): the jobs pause and the lock is taken again as soon as it
  is free;
- standing by: the lock is tried every refresh interval; taken, the interval
  jobs (sweeps, batches) run at once to catch up on what a lost Redis dropped,
  and cron jobs resume at their next time.

Redis unreachable for less than a TTL changes nothing: the lock cannot have
been given to anyone else yet. The lock is the library's own (same name and
settings), so a stock `crontab` and this one never lead together.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime

import redis
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from redis.exceptions import LockError

logger = logging.getLogger(__name__)

LOCK_NAME = "dramatiq-scheduler"


def catch_up(scheduler: BaseScheduler) -> None:
    """Interval jobs run now; cron jobs at their next time from now (none replayed)."""
    now = datetime.now(scheduler.timezone)
    for job in scheduler.get_jobs():
        if isinstance(job.trigger, IntervalTrigger):
            job.modify(next_run_time=now)
        else:
            job.modify(next_run_time=job.trigger.get_next_fire_time(None, now))


class Leadership:
    """Holds the leader lock for a running (possibly paused) APScheduler scheduler.

    `tick()` is one round: keep the lock or take it, pausing or resuming the jobs.
    `run_in_thread()` calls it every `interval` seconds until `stop()`.
    """

    def __init__(
        self, client: redis.Redis, scheduler: BaseScheduler, *, ttl: float, interval: float
    ) -> None:
        self.scheduler = scheduler
        self.ttl = ttl
        self.interval = interval
        self._lock = client.lock(LOCK_NAME, timeout=ttl, thread_local=False)
        self._kept_at: float | None = None  # monotonic time the lock was last ours for sure
        self._redis_down = False
        self._stood_by = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self._kept_at is not None

    def tick(self) -> None:
        try:
            if self.leading:
                self._keep()
            if not self.leading:
                self._take()
        except redis.RedisError as exc:
            if not self._redis_down:
                logger.warning("scheduler: Redis is unreachable (%s); retrying", exc)
            self._redis_down = True
            return
        if self._redis_down:
            logger.info("scheduler: Redis is reachable again")
        self._redis_down = False

    def _keep(self) -> None:
        try:
            self._lock.extend(self.ttl, replace_ttl=True)
        except LockError:
            self._lose("Redis no longer holds our lock (restarted, failed over or evicted)")
            return
        except redis.RedisError:
            if time.monotonic() - self._kept_at >= self.ttl:
                self._lose(f"Redis was unreachable for the lock's whole {self.ttl:g} s")
            raise
        self._kept_at = time.monotonic()

    def _lose(self, why: str) -> None:
        self._kept_at = None
        self.scheduler.pause()
        logger.warning("scheduler: lost the leader lock: %s; jobs paused until it is back", why)

    def _take(self) -> None:
        if not self._lock.acquire(blocking=False):
            if not self._stood_by:
                logger.info("scheduler: another scheduler is already running; standing by")
            self._stood_by = True
            return
        self._kept_at = time.monotonic()
        self._stood_by = False
        catch_up(self.scheduler)
        self.scheduler.resume()
        logger.info("scheduler: leading; interval jobs run now to catch up")

    def run_in_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler-leadership", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:
                # A bug here must not silently end the keeping: log it, try next round.
                logger.exception("scheduler: leadership round failed")
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        """Stop keeping the lock and give it up (the next scheduler takes over at once)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.leading:
            # Gone already, or unreachable: then it expires within one TTL.
            with contextlib.suppress(redis.RedisError):
                self._lock.release()
            self._kept_at = None
