"""Sending windows: hours and days in the prospect's timezone, public holidays skipped."""

from datetime import UTC, datetime

from crm.models import Campaign, Prospect
from outreach.sending.windows import window_check, window_next_opening


def campaign(**fields) -> Campaign:
    fields.setdefault("window_start_hour", 9)
    fields.setdefault("window_end_hour", 17)
    fields.setdefault("window_days", [0, 1, 2, 3, 4])
    fields.setdefault("skip_holidays", True)
    return Campaign(**fields)


def prospect(tz="America/New_York", country="US") -> Prospect:
    return Prospect(timezone=tz, country=country)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_open_inside_hours_in_the_prospects_timezone():
    # Tue 2025-03-11 14:00 UTC is 10:00 in New York (EDT): open.
    assert window_check(campaign=campaign(), prospect=prospect(), at=at(2025, 3, 11, 14)).open


def test_closed_outside_hours_in_the_prospects_timezone():
    # 10:00 UTC is 06:00 in New York even though it is office hours in Lisbon.
    check = window_check(campaign=campaign(), prospect=prospect(), at=at(2025, 3, 11, 10))
    assert not check.open and check.reason == "outside_hours"


def test_closed_on_an_excluded_weekday():
    # Sat 2025-03-15 15:00 UTC is 11:00 Saturday in New York.
    check = window_check(campaign=campaign(), prospect=prospect(), at=at(2025, 3, 15, 15))
    assert not check.open and check.reason == "day_excluded"


def test_closed_on_a_public_holiday_of_the_prospects_country():
    # 2025-07-04 (Friday) is Independence Day in the US; 15:00 UTC is 11:00 there.
    check = window_check(campaign=campaign(), prospect=prospect(), at=at(2025, 7, 4, 15))
    assert not check.open and check.reason == "holiday"


def test_the_same_day_is_open_where_it_is_no_holiday():
    lisbon = prospect(tz="Europe/Lisbon", country="PT")
    assert window_check(campaign=campaign(), prospect=lisbon, at=at(2025, 7, 4, 10)).open


def test_holidays_count_only_when_the_campaign_skips_them():
    relaxed = campaign(skip_holidays=False)
    assert window_check(campaign=relaxed, prospect=prospect(), at=at(2025, 7, 4, 15)).open


def test_window_across_midnight():
    night = campaign(window_start_hour=22, window_end_hour=6, window_days=list(range(7)))
    london = prospect(tz="Europe/London", country="GB")
    assert window_check(campaign=night, prospect=london, at=at(2025, 1, 8, 23)).open
    assert window_check(campaign=night, prospect=london, at=at(2025, 1, 8, 3)).open
    assert not window_check(campaign=night, prospect=london, at=at(2025, 1, 8, 12)).open


def test_bad_timezone_and_unknown_country_fall_back_instead_of_failing():
    odd = prospect(tz="Mars/Olympus_Mons", country="ZZ")
    assert window_check(campaign=campaign(), prospect=odd, at=at(2025, 3, 11, 10)).open


def test_next_opening_skips_the_weekend_and_lands_on_opening_hour():
    # Friday 2025-03-14 22:00 UTC (18:00 New York) -> Monday 09:00 EDT = 13:00 UTC.
    opening = window_next_opening(
        campaign=campaign(), prospect=prospect(), after=at(2025, 3, 14, 22)
    )
    assert opening == at(2025, 3, 17, 13)


def test_next_opening_is_now_when_open():
    now = at(2025, 3, 11, 14, 30)
    assert window_next_opening(campaign=campaign(), prospect=prospect(), after=now) == now
