"""The one place where what a user typed or put in a URL becomes a number or a date.

Every route and the audit filters read ids, sequence numbers, versions and dates through
these functions, so the same rules hold everywhere:

- Only ASCII digits: Python's int() and str.isdigit() also take "²", "١٢" or "1_000".
- Within what the database can hold: every id, version, revision number and audit seq is an
  INTEGER column, 32-bit signed on PostgreSQL, so a larger number is refused here (as 400, or
  404 for an id in a path) instead of failing in the database as a 500.
- Dates within a window the service makes sense for: the calendar's ends (0001-01-01,
  9999-12-31) cannot be converted between time zones or moved a day.
- No NUL characters: PostgreSQL cannot store them in text, so a request carrying one is
  refused before it reaches the database (app.web installs the check on every request).

Bad input raises InvalidInput with a message that names the field (shown translated).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from werkzeug.routing import BaseConverter, ValidationError

from app.core.clock import STOCKHOLM
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg

# The largest value of an INTEGER column on PostgreSQL (SQLite's are 64-bit; the smaller rules).
MAX_ID = 2**31 - 1
# Dates outside these are refused: nothing in the service happened before 2000, and the far
# future is only ever a typing error.
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2100, 12, 31)

_SHOWN_CHARS = 40  # how much of a refused value the message repeats
_DIGITS = re.compile(r"[0-9]{1,20}", re.ASCII)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
# A date and time as a browser's datetime-local field sends it (seconds optional), or in ISO
# form with a UTC offset.
_MOMENT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6}))?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?", re.ASCII)


def shown(value: str) -> str:
    """A refused value as a message repeats it: short, and without NUL characters."""
    value = value.replace("\x00", "\\0")
    return value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"


# -- whole numbers ---------------------------------------------------------------------------

def whole_number(text: str | None, low: int = 0, high: int = MAX_ID) -> int | None:
    """`text` as a whole number from `low` to `high`, or None if it is not one (ASCII digits
    only, no sign, surrounding spaces allowed)."""
    if text is None:
        return None
    match = _DIGITS.fullmatch(text.strip())
    if match is None:
        return None
    number = int(match.group())
    return number if low <= number <= high else None


def parse_whole_number(text: str | None, *, field: str, low: int = 1,
                       high: int = MAX_ID) -> int | None:
    """A whole number from a form or query string: None when empty, InvalidInput when it is
    not a whole number from `low` to `high`."""
    text = (text or "").strip()
    if not text:
        return None
    number = whole_number(text, low, high)
    if number is None:
        raise InvalidInput(Msg(N_("'{field}' must be a number from {low:,} to {high:,}, not "
                                  "'{value}'."),
                               field=field, low=low, high=high, value=shown(text)))
    return number


def parse_id(text: str | None, *, field: str) -> int | None:
    """An id (of a row, an audit event's seq): 1 up to what the column holds."""
    return parse_whole_number(text, field=field, low=1, high=MAX_ID)


class IdConverter(BaseConverter):
    """`<id:name>` in a URL rule: ASCII digits naming a row that can exist (1 to MAX_ID).
    Anything else does not match the rule, so it is a plain 404 like any unknown page."""

    regex = r"[0-9]{1,10}"
    weight = 50  # as Werkzeug's own number converters: a number outranks a string
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = whole_number(value, 1, MAX_ID)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


# -- dates -----------------------------------------------------------------------------------

def _not_a_date(text: str, field: str) -> InvalidInput:
    return InvalidInput(Msg(N_("'{value}' is not a date (YYYY-MM-DD) or a date and time "
                               "(YYYY-MM-DDTHH:MM) for '{field}'."),
                            value=shown(text), field=field))


def _within_window(day: date, text: str, field: str) -> date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InvalidInput(Msg(N_("'{value}' for '{field}' is outside the dates the system "
                                  "handles: {first} to {last}."),
                               value=shown(text), field=field, first=FIRST_DATE.isoformat(),
                               last=LAST_DATE.isoformat()))
    return day


def parse_date(text: str | None, *, field: str) -> date | None:
    """A date as YYYY-MM-DD within FIRST_DATE..LAST_DATE; None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    match = _DATE.fullmatch(text)
    try:
        day = date(*(int(part) for part in match.groups())) if match else None
    except ValueError:  # 2030-02-30
        day = None
    if day is None:
        raise _not_a_date(text, field)
    return _within_window(day, text, field)


def parse_local_moment(text: str | None, *, field: str,
                       end_of_day: bool = False) -> datetime | None:
    """A date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM[:SS]) in Swedish local time,
    or with a UTC offset, as an aware UTC datetime; None when empty. A bare date means the
    start of that day, or with `end_of_day` the start of the next (for an exclusive end)."""
    text = (text or "").strip()
    if not text:
        return None
    if _DATE.fullmatch(text):
        day = parse_date(text, field=field)
        if end_of_day:
            day += timedelta(days=1)
        return datetime.combine(day, time(0, 0), tzinfo=STOCKHOLM).astimezone(UTC)
    match = _MOMENT.fullmatch(text)
    if match is None:
        raise _not_a_date(text, field)
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:  # 2030-02-30T10:00, 25:00
        raise _not_a_date(text, field) from None
    _within_window(moment.date(), text, field)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STOCKHOLM)
    return moment.astimezone(UTC)


# -- NUL characters --------------------------------------------------------------------------

def field_with_nul(fields: Iterable[tuple[str, str | None]]) -> str | None:
    """The name of the first field whose name or value holds a NUL character, else None."""
    for name, value in fields:
        if "\x00" in name or (value is not None and "\x00" in value):
            return shown(name)
    return None
