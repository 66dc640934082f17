"""The return date in an out-of-office reply ("back on 7 December", "bis 04.01.2027")."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateparser.date import DateDataParser

LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt"]
# Return dates further out than this are more likely an unrelated date in the text.
HORIZON = timedelta(days=200)

_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](\d{4}|\d{2})\b)?")
_DAY_MONTH = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th|\.|º)?\s+(?:de\s+)?[^\W\d_]{3,}\.?(?:,?\s+(?:de\s+)?\d{4})?"
)
_MONTH_DAY = re.compile(r"\b[^\W\d_]{3,}\.?\s+\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+\d{4})?")
_MONTH_PARSER = DateDataParser(languages=LANGUAGES, settings={"REQUIRE_PARTS": ["month"]})
_WORD = re.compile(r"[^\W\d_]{3,}")


def return_date(text: str, *, sent: datetime | None) -> date | None:
    """The latest plausible future date mentioned: "until the 4th, back on the 7th" -> 7th."""
    base = (sent or datetime.now()).replace(tzinfo=None)
    latest = (base + HORIZON).date()
    candidates = [found for found in _dates_in(text, base=base) if base.date() < found <= latest]
    return max(candidates, default=None)


def _dates_in(text: str, *, base: datetime) -> list[date]:
    found: list[date] = []
    taken: list[range] = []
    for match in _ISO.finditer(text):
        found += _numeric(match.group(1), match.group(2), match.group(3), base)
        taken.append(range(match.start(), match.end()))
    for match in _NUMERIC.finditer(text):
        if not _overlaps(match.start(), taken):
            year = match.group(3)
            found += _numeric(year, match.group(2), match.group(1), base)
    parser = DateDataParser(
        languages=LANGUAGES,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": base,
            "REQUIRE_PARTS": ["day", "month"],
        },
    )
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for match in pattern.finditer(text):
            word = _WORD.search(match.group(0))
            if not (word and _is_month(word.group(0))):
                continue
            parsed = parser.get_date_data(match.group(0)).date_obj
            if parsed is not None:
                found.append(parsed.date())
    return found


def _overlaps(position: int, spans: list[range]) -> bool:
    return any(position in span for span in spans)


@lru_cache(maxsize=512)
def _is_month(word: str) -> bool:
    """True for a month name or abbreviation in one of LANGUAGES ("Dez", "décembre")."""
    data = _MONTH_PARSER.get_date_data(word)
    return data.date_obj is not None and data.period == "month"


def _numeric(year: str | None, month: str, day: str, base: datetime) -> list[date]:
    """Day-first numeric dates (the order most of our prospects write); no year = next one."""
    year_value = int(year) + 2000 if year and len(year) == 2 else int(year or base.year)
    try:
        found = date(year_value, int(month), int(day))
    except ValueError:
        return []
    if not year and found < base.date():
        found = found.replace(year=found.year + 1)
    return [found]
