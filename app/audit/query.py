"""Reading the audit trail, for auditors: filters and keyset paging of the event log (a
contribution's history, as-of and provenance are in history.py).

Only auditors may read (administrators too only if they are also auditors). Every read is
itself recorded as an `audit.view` event in the same transaction. Results are plain data
(Core rows and dataclasses), never ORM objects, so they stay valid after the commit.

Paging is by key: newest first, `seq < before_seq` (or `seq > after_seq` going back), never
OFFSET, so every page costs the same however deep it is and however many events are
appended meanwhile; each filter column has a (column, seq) index.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text

from app.audit.labels import action_choices, object_names
from app.audit.policy import require_auditor
from app.audit.trail import record_event
from app.core import parsing
from app.core.actors import Actor
from app.core.errors import InvalidInput
from app.core.messages import N_, Label, Msg
from app.core.paging import keyset_page
from app.core.text_rules import refuse_identity_numbers
from app.extensions import db
from app.models import Area, AuditEvent, Contribution, Period, User

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
EVENTS = AuditEvent.__table__


def record_view(actor: Actor, page: str, **details: Any) -> None:
    """Check the reader and log the read (`audit.view`), in the caller's transaction."""
    require_auditor(actor)
    scope = {k: details.pop(k) for k in ("period_id", "area_id", "contribution_id")
             if details.get(k) is not None}
    record_event("audit.view", actor=actor, object_type="audit_trail", object_id=page,
                 data={"page": page, **{k: v for k, v in details.items() if v is not None}},
                 **scope)


# -- filters --------------------------------------------------------------------------------

@dataclass(frozen=True)
class EventFilter:
    """Which events: every given criterion must hold. Times are UTC, `until` exclusive."""

    period_id: int | None = None
    area_id: int | None = None
    contribution_id: int | None = None
    actor_id: int | None = None
    organisation: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list:
        found = []
        for name, column in (("period_id", EVENTS.c.period_id), ("area_id", EVENTS.c.area_id),
                             ("contribution_id", EVENTS.c.contribution_id),
                             ("actor_id", EVENTS.c.actor_id),
                             ("organisation", EVENTS.c.actor_organisation),
                             ("action", EVENTS.c.action)):
            value = getattr(self, name)
            if value is not None:
                found.append(column == value)
        if self.since is not None:
            found.append(EVENTS.c.occurred_at >= self.since)
        if self.until is not None:
            found.append(EVENTS.c.occurred_at < self.until)
        return found

    def described(self) -> dict[str, Any]:
        """The criteria given, as JSON values (for the audit.view / audit.export event)."""
        out: dict[str, Any] = {}
        for name in ("period_id", "area_id", "contribution_id", "actor_id", "organisation",
                     "action"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in ("since", "until"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name).astimezone(UTC).isoformat()
        return out

    @property
    def is_empty(self) -> bool:
        return not self.described()


FILTER_FIELDS = ("period", "area", "contribution", "user", "organisation", "action", "from",
                 "to")


_FREE_TEXT_FILTERS = {"organisation": Label("organisation filter", sv="filtret organisation"),
                      "action": Label("action filter", sv="filtret händelse")}


def parse_local_moment(value: str, *, end_of_day: bool = False,
                       label: str = "time") -> datetime | None:
    """A date or date and time in Swedish local time, as UTC (app.core.parsing's rules)."""
    return parsing.parse_local_moment(value, field=label, end_of_day=end_of_day)


def parse_filter(args: Mapping[str, str]) -> EventFilter:
    """The filter from a query string (or CLI options): bad input raises InvalidInput. Ids
    must fit their columns and dates the window app.core.parsing allows."""
    since = parse_local_moment(args.get("from", ""), label="from")
    until = parse_local_moment(args.get("to", ""), end_of_day=True, label="to")
    if since and until and since >= until:
        raise InvalidInput(Msg(N_("The time range ends before it starts.")))
    for name, what in _FREE_TEXT_FILTERS.items():  # written into the audit.view event
        refuse_identity_numbers(args.get(name) or "", field=name, what=what)
    return EventFilter(
        period_id=parsing.parse_id(args.get("period"), field="period"),
        area_id=parsing.parse_id(args.get("area"), field="area"),
        contribution_id=parsing.parse_id(args.get("contribution"), field="contribution"),
        actor_id=parsing.parse_id(args.get("user"), field="user"),
        organisation=(args.get("organisation") or "").strip() or None,
        action=(args.get("action") or "").strip() or None,
        since=since, until=until,
    )


# -- the log, paged by key ------------------------------------------------------------------

@dataclass
class EventPage:
    events: list[Any]  # Core rows of audit_events, newest first
    older_before_seq: int | None  # link to older events: ?before_seq=
    newer_after_seq: int | None  # link to newer events: ?after_seq=
    head_seq: int | None = None


def _exists(conditions: list) -> bool:
    return bool(db.session.scalar(select(exists().where(and_(*conditions)))))


def _rows_in_order(conditions: list, order, limit: int) -> list[Any]:
    """The first `limit` matching events in `order`: their seqs first, from the filter's
    (column, seq) index alone, then just those rows. Sorting whole rows instead would make
    SQLite derive every column of every candidate (a time range can hold thousands)."""
    seqs = db.session.scalars(select(EVENTS.c.seq).where(*conditions).order_by(order)
                              .limit(limit)).all()
    if not seqs:
        return []
    found = {row.seq: row for row in db.session.execute(
        select(EVENTS).where(EVENTS.c.seq.in_(seqs)))}
    return [found[seq] for seq in seqs]


def events_page(event_filter: EventFilter, *, before_seq: int | None = None,
                after_seq: int | None = None, size: int = PAGE_SIZE) -> EventPage:
    """One page of matching events, newest first (app.core.paging's keyset paging on seq).
    Pure read; the caller checks access."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    base = event_filter.conditions()
    page = keyset_page(
        lambda conditions, newest_first, limit: _rows_in_order(
            base + conditions, EVENTS.c.seq.desc() if newest_first else EVENTS.c.seq.asc(),
            limit),
        lambda conditions: _exists(base + conditions), [EVENTS.c.seq], lambda row: (row.seq,),
        before=(before_seq,) if before_seq is not None else None,
        after=(after_seq,) if after_seq is not None else None, size=size)
    return EventPage(page.items, page.older[0] if page.older else None,
                     page.newer[0] if page.newer else None)


def distinct_values(column: str) -> list[str]:
    """Distinct values of an indexed column by a loose index scan (one index probe per value,
    not a scan of the table), for the filter form's choices."""
    if column not in ("action", "actor_organisation"):
        raise ValueError(column)
    sql = text(f"""
        WITH RECURSIVE found(value) AS (
            SELECT MIN({column}) FROM audit_events
            UNION ALL
            SELECT (SELECT MIN({column}) FROM audit_events WHERE {column} > found.value)
            FROM found WHERE found.value IS NOT NULL
        )
        SELECT value FROM found WHERE value IS NOT NULL""")
    return list(db.session.scalars(sql))


# At most this many suggestions for a searched contribution or user: the form lists no more
# than these (not every contribution and user of the city, issue 17).
SUGGESTIONS = 20
_SEARCH_LABELS = {"contribution_search": Label("contribution search", sv="sökningen bidrag"),
                  "user_search": Label("user search", sv="sökningen användare")}
MAX_SEARCH_CHARS = 100


@dataclass(frozen=True)
class FilterSearch:
    """What the auditor typed to find a contribution or a user to filter by (search, then
    choose among the suggestions: the form works without JavaScript)."""

    contribution: str = ""
    user: str = ""


def parse_search(args: Mapping[str, str]) -> FilterSearch:
    """The searches from a query string; bad input (too long, an identity number: the text is
    written into the audit.view event) raises InvalidInput."""
    found = {}
    for name, what in _SEARCH_LABELS.items():
        value = " ".join((args.get(name) or "").split())
        if len(value) > MAX_SEARCH_CHARS:
            raise InvalidInput(Msg(N_("Search for at most {count} characters."),
                                   count=MAX_SEARCH_CHARS))
        refuse_identity_numbers(value, field=name, what=what)
        found[name.removesuffix("_search")] = value
    return FilterSearch(**found)


def _words_match(columns: list, words: list[str]) -> list:
    """Every word found (case folded as the database can) in one of the columns."""
    return [or_(*(func.lower(column).contains(word.lower(), autoescape=True)
                  for column in columns)) for word in words]


def _contribution_rows():
    return (select(Contribution.id, Period.name.label("period"), Area.name.label("area"))
            .join(Period, Contribution.period_id == Period.id)
            .join(Area, Contribution.area_id == Area.id))


def _user_rows():
    return select(User.id, User.name, User.email)


def suggest_contributions(text: str) -> list[tuple[int, str]]:
    """Up to SUGGESTIONS contributions whose period and area names hold every word typed."""
    words = text.split()
    if not words:
        return []
    return [(row.id, f"{row.period} — {row.area}") for row in db.session.execute(
        _contribution_rows().where(*_words_match([Period.name, Area.name], words))
        .order_by(Contribution.period_id.desc(), Area.name).limit(SUGGESTIONS))]


def suggest_users(text: str) -> list[tuple[int, str]]:
    """Up to SUGGESTIONS users whose name or e-mail address holds every word typed."""
    words = text.split()
    if not words:
        return []
    return [(u.id, f"{u.name} ({u.email})") for u in db.session.execute(
        _user_rows().where(*_words_match([User.name, User.email], words))
        .order_by(User.name, User.id).limit(SUGGESTIONS))]


@dataclass
class FilterChoices:
    periods: list[tuple[int, str]]
    areas: list[tuple[int, str]]
    organisations: list[str]
    actions: list[tuple[str, str]]  # (code, label in the request's language)
    contribution: tuple[int, str] | None  # the one filtered by, with its name
    user: tuple[int, str] | None
    search: FilterSearch
    contribution_suggestions: list[tuple[int, str]]  # for what was searched
    user_suggestions: list[tuple[int, str]]


def filter_choices(event_filter: EventFilter | None = None,
                   search: FilterSearch = FilterSearch()) -> FilterChoices:
    """The filter form's choices: the periods and areas (a few dozen), the chosen contribution
    and user by name, and suggestions for what was searched, never every contribution and
    user."""
    event_filter = event_filter or EventFilter()
    periods = [(p.id, p.name) for p in db.session.execute(
        select(Period.id, Period.name).order_by(Period.id.desc()))]
    areas = [(a.id, a.name) for a in db.session.execute(
        select(Area.id, Area.name).order_by(Area.name))]
    contribution = user = None
    if event_filter.contribution_id is not None:
        row = db.session.execute(_contribution_rows().where(
            Contribution.id == event_filter.contribution_id)).first()
        contribution = (row.id, f"{row.period} — {row.area}") if row else None
    if event_filter.actor_id is not None:
        row = db.session.execute(_user_rows().where(User.id == event_filter.actor_id)).first()
        user = (row.id, f"{row.name} ({row.email})") if row else None
    return FilterChoices(periods, areas, distinct_values("actor_organisation"),
                         action_choices(distinct_values("action")), contribution, user,
                         search, suggest_contributions(search.contribution),
                         suggest_users(search.user))


@dataclass
class LogView:
    page: EventPage
    choices: FilterChoices
    event_filter: EventFilter
    names: dict[tuple[str, str], str]  # each event's object by name (labels.object_names)


def browse_log(actor: Actor, event_filter: EventFilter, *, before_seq: int | None = None,
               after_seq: int | None = None, size: int = PAGE_SIZE,
               search: FilterSearch = FilterSearch()) -> LogView:
    """The audit log page for an auditor: checks, records the read, returns plain data. The
    suggestions for a search are an auditor's read too: nobody else gets them."""
    require_auditor(actor)
    page = events_page(event_filter, before_seq=before_seq, after_seq=after_seq, size=size)
    described = event_filter.described()
    record_view(actor, "log", filter=described or None, before_seq=before_seq,
                after_seq=after_seq, search={k: v for k, v in vars(search).items() if v}
                or None)
    return LogView(page, filter_choices(event_filter, search), event_filter,
                   object_names(page.events))
