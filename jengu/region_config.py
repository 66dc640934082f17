"""`JENGU_REGIONS`: the regions, their queue names, and which region a timezone is in.

Plain Python (no Django): the settings parse `JENGU_REGIONS` with it at start, so a
bad value stops the process with the variable named.

    JENGU_REGIONS=us-east,eu-west,asia-pacific        # the first is the default
    JENGU_REGIONS=us-east,fra=Europe/Berlin           # a name of your own, with its home

Each region has a home timezone. A prospect belongs to the region whose home's
standard UTC offset is nearest to its own (around the clock, so +12 is near -11),
the earlier region in the list on a tie. Standard offsets, not today's: a prospect
never changes region when daylight saving time starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: The stages whose work runs in the prospect's region (queues `<stage>-<region>`).
REGIONAL_STAGES = ("enrich", "compose", "send")

# Home timezones of the usual region names (cloud providers' naming).
KNOWN_HOMES = {
    "us-east": "America/New_York",
    "us-central": "America/Chicago",
    "us-west": "America/Los_Angeles",
    "ca-central": "America/Toronto",
    "sa-east": "America/Sao_Paulo",
    "eu-west": "Europe/Dublin",
    "eu-central": "Europe/Berlin",
    "eu-north": "Europe/Stockholm",
    "eu-south": "Europe/Rome",
    "me-central": "Asia/Dubai",
    "af-south": "Africa/Johannesburg",
    "ap-south": "Asia/Kolkata",
    "asia-pacific": "Asia/Singapore",
    "ap-southeast": "Asia/Singapore",
    "ap-east": "Asia/Hong_Kong",
    "ap-northeast": "Asia/Tokyo",
    "au-east": "Australia/Sydney",
}
# Lowercase words joined by single hyphens: safe in queue names on both brokers (no
# dots, which Dramatiq's Redis broker uses for `.DQ`/`.XQ`), labels and URLs.
NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_NAME_LENGTH = 32
# A day in January: a fixed date, so the standard offset never depends on today.
_REFERENCE = datetime(2025, 1, 15, 12)
_DAY_HOURS = 24.0


class RegionConfigError(ValueError):
    """`JENGU_REGIONS` cannot be used; the message says why."""


@dataclass(frozen=True)
class Region:
    name: str
    home: str  # IANA timezone

    @property
    def offset_hours(self) -> float:
        return standard_offset_hours(self.home)


def parse_regions(value: str) -> tuple[Region, ...]:
    """`us-east,eu-west=Europe/London,…` → regions in order; empty → none."""
    regions: list[Region] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        name, _, home = (piece.strip() for piece in item.partition("="))
        regions.append(_region(name, home))
    names = [region.name for region in regions]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RegionConfigError(f"region {', '.join(duplicates)} is listed twice")
    return tuple(regions)


def _region(name: str, home: str) -> Region:
    if len(name) > MAX_NAME_LENGTH or not NAME.fullmatch(name):
        raise RegionConfigError(
            f"region name {name!r} must be lowercase letters and digits joined by hyphens "
            f"(at most {MAX_NAME_LENGTH} characters), e.g. eu-west"
        )
    home = home or KNOWN_HOMES.get(name, "")
    if not home:
        raise RegionConfigError(
            f"region {name!r} has no known home timezone: write it as {name}=Area/City "
            "(e.g. fra=Europe/Berlin)"
        )
    if home not in _timezones():
        raise RegionConfigError(f"region {name!r}: unknown timezone {home!r}")
    return Region(name, home)


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def standard_offset_hours(timezone: str) -> float:
    """The zone's UTC offset without daylight saving time, in hours."""
    zone = ZoneInfo(timezone)
    moment = _REFERENCE.replace(tzinfo=zone)
    return (moment.utcoffset() - moment.dst()).total_seconds() / 3600


def nearest_region(timezone: str, regions: tuple[Region, ...]) -> Region:
    """The region whose home is nearest `timezone` around the clock; an unknown
    timezone (or none) belongs to the first region, the default."""
    try:
        offset = standard_offset_hours(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        offset = None
    if offset is None:
        return regions[0]
    return min(regions, key=lambda region: _distance(offset, region.offset_hours))


def _distance(a: float, b: float) -> float:
    gap = abs(a - b) % _DAY_HOURS
    return min(gap, _DAY_HOURS - gap)


def region_queue(stage: str, region: str | None) -> str:
    """The queue of `stage` in `region`: `send-eu-west`; the plain stage without one."""
    return f"{stage}-{region}" if region and stage in REGIONAL_STAGES else stage


def queue_region(queue: str) -> str | None:
    """The region a queue belongs to (`send-eu-west` → `eu-west`), or None."""
    stage, _, region = queue.partition("-")
    return region if region and stage in REGIONAL_STAGES else None
