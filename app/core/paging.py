"""Keyset paging: the one mechanism for every list that grows with time (the audit log, a
contribution's history, the documents index). Newest first; a page is found by key
(`key < before` for older, `key > after` for newer), never by OFFSET, so a page costs the same
however deep it is and however many rows are added meanwhile.

A key is a tuple of values of the list's ordering columns (its last column unique, e.g. an
id), written in a URL as a cursor: the values joined by "~" ("2031-01-31~17"). A cursor that
does not parse is refused with a clear message (InvalidInput), never a 500.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import tuple_

from app.core import parsing
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg

T = TypeVar("T")
Key = tuple
CURSOR_SEPARATOR = "~"
MAX_CURSOR_CHARS = 80


@dataclass
class Page(Generic[T]):
    items: list[T]  # newest first
    older: Key | None  # pass as before= for the next, older page (None: this is the last)
    newer: Key | None  # pass as after= for the page before, newer (None: this is the first)

    @property
    def is_first(self) -> bool:
        return self.newer is None


def _compare(columns: Sequence, key: Key, operator: str):
    left = columns[0] if len(columns) == 1 else tuple_(*columns)
    right = key[0] if len(columns) == 1 else tuple_(*key)
    return left < right if operator == "<" else left > right


def keyset_page(fetch: Callable[[list, bool, int], list[T]], exists: Callable[[list], bool],
                columns: Sequence, key_of: Callable[[T], Key], *, before: Key | None = None,
                after: Key | None = None, last: bool = False, size: int) -> Page[T]:
    """One page, newest first. `fetch(conditions, newest_first, limit)` returns up to `limit`
    items matching every condition in that order; `exists(conditions)` says whether any item
    matches; `columns` are the ordering columns and `key_of` an item's key in them. `after`
    pages back towards the newest, `before` on towards the oldest, `last` gives the oldest
    page."""
    if after is not None or last:
        conditions = [_compare(columns, after, ">")] if after is not None else []
        items = fetch(conditions, False, size + 1)
        more_newer = len(items) > size
        items = list(reversed(items[:size]))
        if not items:  # nothing newer: the newest page instead
            return keyset_page(fetch, exists, columns, key_of, size=size)
        older = (key_of(items[-1])
                 if exists([_compare(columns, key_of(items[-1]), "<")]) else None)
        return Page(items, older, key_of(items[0]) if more_newer else None)
    conditions = [_compare(columns, before, "<")] if before is not None else []
    items = fetch(conditions, True, size + 1)
    more_older = len(items) > size
    items = items[:size]
    if not items and before is not None and exists([]):  # past the end: the oldest page
        return keyset_page(fetch, exists, columns, key_of, last=True, size=size)
    newer = None
    if before is not None and items and exists([_compare(columns, key_of(items[0]), ">")]):
        newer = key_of(items[0])
    return Page(items, key_of(items[-1]) if more_older and items else None, newer)


# -- cursors in URLs ------------------------------------------------------------------------

def cursor(key: Key | None) -> str | None:
    """A key as a URL parameter (None stays None)."""
    if key is None:
        return None
    return CURSOR_SEPARATOR.join(value.isoformat() if isinstance(value, date) else str(value)
                                 for value in key)


def parse_cursor(value: str | None, kinds: Sequence[type], *, field: str) -> Key | None:
    """A cursor back into a key of values of `kinds` (int or date); empty: None. Anything
    else is refused with a message naming the parameter."""
    text = (value or "").strip()
    if not text:
        return None
    parts = text.split(CURSOR_SEPARATOR)
    if len(text) > MAX_CURSOR_CHARS or len(parts) != len(kinds):
        raise _bad_cursor(field)
    key: list[Any] = []
    for part, kind in zip(parts, kinds, strict=True):
        if kind is int:
            number = parsing.whole_number(part, 1, parsing.MAX_ID)
            if number is None:
                raise _bad_cursor(field)
            key.append(number)
        elif kind is date:
            try:
                key.append(date.fromisoformat(part))
            except ValueError:
                raise _bad_cursor(field) from None
        else:
            raise ValueError(kind)
    return tuple(key)


def _bad_cursor(field: str) -> InvalidInput:
    return InvalidInput(Msg(N_("This page link is not valid ({field}). Start again from the "
                               "first page."), field=field))
