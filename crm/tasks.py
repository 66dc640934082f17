"""Scheduled actors for the dashboard: rollups and the system watcher (thin)."""

import dramatiq
from dramatiq_crontab import cron

from crm.rollups import daily_stats_rollup_recent
from jengu.watch import system_watch


@cron("* * * * *")
@dramatiq.actor(queue="scheduled", max_retries=0, time_limit=120_000)
def rollup_daily_stats() -> None:
    # No retries: the next minute's run recomputes the same day from scratch.
    daily_stats_rollup_recent()


@cron("* * * * *")
@dramatiq.actor(queue="scheduled", max_retries=0, time_limit=60_000)
def watch_system() -> None:
    system_watch()
