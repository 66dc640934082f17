"""Sending windows: hours and weekdays in the prospect's timezone, minus public holidays."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from crm.models import Campaign, Prospect

logger = logging.getLogger(__name__)

# A campaign without explicit days sends on working days only.
DEFAULT_DAYS = (0, 1, 2, 3, 4)
# How far ahead `window_next_opening` looks before giving up (e.g. no days selected).
LOOKAHEAD_HOURS = 24 * 15


@dataclass(frozen=True)
class WindowCheck:
    open: bool
    reason: str = ""  # "" | "outside_hours" | "day_excluded" | "holiday"


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A bad timezone on one prospect must not stop the batch; UTC is the
        # least surprising guess and the admin shows the value to fix.
        logger.warning("unknown timezone %r, using UTC", name)
        return ZoneInfo("UTC")


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name` (UTC when blank or unknown)."""
    return _zone(name or "UTC")


def prospect_zone(prospect: Prospect) -> ZoneInfo:
    return zone_named(prospect.timezone)


@lru_cache(maxsize=256)
def _country_holidays(country: str) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country.upper())
    except NotImplementedError:
        return None


def is_public_holiday(*, country: str, day: date) -> bool:
    """True if `day` is a public holiday in `country` (ISO alpha-2); unknown countries: no."""
    if not country:
        return False
    calendar = _country_holidays(country)
    return calendar is not None and day in calendar


def _hour_open(campaign: Campaign, hour: int) -> bool:
    start, end = campaign.window_start_hour, campaign.window_end_hour
    if start < end:
        return start <= hour < end
    if start > end:  # a window across midnight, e.g. 22 → 6
        return hour >= start or hour < end
    return False


def window_check(*, campaign: Campaign, prospect: Prospect, at: datetime) -> WindowCheck:
    """Whether `campaign` may e-mail `prospect` at the instant `at` (aware)."""
    local = at.astimezone(prospect_zone(prospect))
    if local.weekday() not in (campaign.window_days or DEFAULT_DAYS):
        return WindowCheck(False, "day_excluded")
    if campaign.skip_holidays and is_public_holiday(country=prospect.country, day=local.date()):
        return WindowCheck(False, "holiday")
    if not _hour_open(campaign, local.hour):
        return WindowCheck(False, "outside_hours")
    return WindowCheck(True)


def window_next_opening(*, campaign: Campaign, prospect: Prospect, after: datetime) -> datetime:
    """The first instant at or after `after` inside the window (`after` if open now).

    Returns `after + LOOKAHEAD_HOURS` when the window never opens (no usable day),
    so callers always get a time to come back at.
    """
    if window_check(campaign=campaign, prospect=prospect, at=after).open:
        return after
    candidate = after.replace(minute=0, second=0, microsecond=0)
    for _ in range(LOOKAHEAD_HOURS):
        candidate += timedelta(hours=1)
        if window_check(campaign=campaign, prospect=prospect, at=candidate).open:
            return candidate
    return after + timedelta(hours=LOOKAHEAD_HOURS)
