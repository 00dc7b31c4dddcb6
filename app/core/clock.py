"""The one source of "now" for operations, so the demo loader can replay a past period's history,
and the one time zone that dates are shown and deadlines meant in."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Datetimes are UTC in the database and shown in Swedish time.
STOCKHOLM = ZoneInfo("Europe/Stockholm")

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
