"""The one source of "now" for operations, so the demo loader can replay a past period's history,
and the one time zone that dates are shown and deadlines meant in."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# Datetimes are UTC in the database and shown in Swedish time.
STOCKHOLM = ZoneInfo("Europe/Stockholm")

# How every page (and document) shows a date or a moment: the Swedish convention, ISO 8601,
# "2026-12-11" and "2026-12-11 14:05" in Swedish time, whatever the page's language.
DATE_FORMAT = "%Y-%m-%d"
MOMENT_FORMAT = "%Y-%m-%d %H:%M"

_frozen: ContextVar[datetime | None] = ContextVar("frozen_now", default=None)


def now() -> datetime:
    return _frozen.get() or datetime.now(UTC)


@contextmanager
def frozen_at(moment: datetime):
    if moment.tzinfo is None:
        raise ValueError("frozen_at needs a timezone-aware datetime")
    token = _frozen.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)


def shown_time(value: date | datetime | None) -> str:
    """A date as 2026-12-11, a moment as 2026-12-11 14:05 in Swedish time (a naive datetime
    is taken as UTC, as the database stores them); None as an empty string."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(STOCKHOLM).strftime(MOMENT_FORMAT)
    return value.strftime(DATE_FORMAT)
