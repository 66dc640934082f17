"""Scheduled actors for the dashboard: rollups and the system watcher (thin)."""

from dramatiq_crontab import cron

from jengu.bus import event_actor
from jengu.watch import system_watch
from outreach.dashboard.rollups import daily_stats_rollup_recent


# No retries for either: the next minute's run does the same work from scratch.
@cron("* * * * *")
@event_actor("RollupDailyStats", queue="scheduled", max_retries=0, time_limit=120_000)
def rollup_daily_stats() -> None:
    daily_stats_rollup_recent()


@cron("* * * * *")
@event_actor("WatchSystem", queue="scheduled", max_retries=0, time_limit=60_000)
def watch_system() -> None:
    system_watch()
