"""Reading the audit trail, for auditors: filters, keyset paging, a contribution's history,
revision comparison, the contribution "as of" a moment, and the provenance of what was approved.

Only auditors may read (administrators too only if they are also auditors). Every read is
itself recorded as an `audit.view` event in the same transaction. Results are plain data
(Core rows and dataclasses), never ORM objects, so they stay valid after the commit.

Paging is by key: newest first, `seq < before_seq` (or `seq > after_seq` going back), never
OFFSET, so every page costs the same however deep it is and however many events are
appended meanwhile; each filter column has a (column, seq) index.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select, text

from app.extensions import db
from app.i18n import N_, Msg
from app.models import (
    Area,
    AuditEvent,
    Contribution,
    Period,
    Section,
    SectionRevision,
    User,
)
from app.services.access import all_roles, deny
from app.services.actors import Actor
from app.services.audit import record_event, scope_of
from app.services.diff import Segment, has_changes, word_diff
from app.services.errors import InvalidInput, NotFound

LOCAL_ZONE = ZoneInfo("Europe/Stockholm")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
EVENTS = AuditEvent.__table__
EDIT_ACTIONS = ("section.edit", "section.consolidation_edit")


# -- access ---------------------------------------------------------------------------------

def is_auditor(actor: Any) -> bool:
    return isinstance(actor, User) and actor.active and "auditor" in all_roles(actor)


def require_auditor(actor: Actor | None, action: str = "audit.view") -> None:
    """Auditors only. An administrator is refused unless they also hold the auditor role."""
    if not is_auditor(actor):
        raise deny(Msg(N_("Only auditors may read the audit trail.")), action=action)


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


def _int_field(args: Mapping[str, str], name: str, label: str) -> int | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(Msg(N_("The filter '{field}' must be a number, not '{value}'."),
                               field=label, value=value[:40])) from None
    if number < 1:
        raise InvalidInput(Msg(N_("The filter '{field}' must be a number, not '{value}'."),
                               field=label, value=value[:40]))
    return number


def parse_local_moment(value: str, *, end_of_day: bool = False,
                       label: str = "time") -> datetime | None:
    """A date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM[:SS]) in Swedish local time,
    as UTC. A bare date means the start of that day, or with end_of_day the start of the next."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            if end_of_day:
                day += timedelta(days=1)
            local = datetime.combine(day, time(0, 0))
        else:
            local = datetime.fromisoformat(value.replace(" ", "T"))
            if local.tzinfo is not None:
                return local.astimezone(UTC)
    except ValueError:
        raise InvalidInput(Msg(N_("'{value}' is not a date (YYYY-MM-DD) or a date and time "
                                  "(YYYY-MM-DDTHH:MM) for '{field}'."),
                               value=value[:40], field=label)) from None
    return local.replace(tzinfo=LOCAL_ZONE).astimezone(UTC)


def parse_filter(args: Mapping[str, str]) -> EventFilter:
    """The filter from a query string (or CLI options): bad input raises InvalidInput."""
    since = parse_local_moment(args.get("from", ""), label="from")
    until = parse_local_moment(args.get("to", ""), end_of_day=True, label="to")
    if since and until and since >= until:
        raise InvalidInput(Msg(N_("The time range ends before it starts.")))
    return EventFilter(
        period_id=_int_field(args, "period", "period"),
        area_id=_int_field(args, "area", "area"),
        contribution_id=_int_field(args, "contribution", "contribution"),
        actor_id=_int_field(args, "user", "user"),
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
    """One page of matching events, newest first. Pure read; the caller checks access."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    base = event_filter.conditions()
    if after_seq is not None:
        rows = _rows_in_order(base + [EVENTS.c.seq > after_seq], EVENTS.c.seq.asc(), size + 1)
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        if not rows:  # nothing newer: show the newest page instead
            return events_page(event_filter, size=size)
        older = rows[-1].seq if _exists(base + [EVENTS.c.seq < rows[-1].seq]) else None
        return EventPage(rows, older, rows[0].seq if more_newer else None)
    conditions = base + ([EVENTS.c.seq < before_seq] if before_seq is not None else [])
    rows = _rows_in_order(conditions, EVENTS.c.seq.desc(), size + 1)
    more_older = len(rows) > size
    rows = rows[:size]
    newer = None
    if before_seq is not None:
        boundary = rows[0].seq if rows else before_seq - 1
        if _exists(base + [EVENTS.c.seq > boundary]):
            newer = boundary
    return EventPage(rows, rows[-1].seq if more_older and rows else None, newer)


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


@dataclass
class FilterChoices:
    periods: list[tuple[int, str]]
    areas: list[tuple[int, str]]
    contributions: list[tuple[int, str]]
    users: list[tuple[int, str]]
    organisations: list[str]
    actions: list[str]


def filter_choices() -> FilterChoices:
    periods = [(p.id, p.name) for p in db.session.execute(
        select(Period.id, Period.name).order_by(Period.id.desc()))]
    areas = [(a.id, a.name) for a in db.session.execute(
        select(Area.id, Area.name).order_by(Area.name))]
    contributions = [(row.id, f"{row.period} — {row.area}") for row in db.session.execute(
        select(Contribution.id, Period.name.label("period"), Area.name.label("area"))
        .join(Period, Contribution.period_id == Period.id)
        .join(Area, Contribution.area_id == Area.id)
        .order_by(Contribution.period_id.desc(), Area.name))]
    users = [(u.id, f"{u.name} ({u.email})") for u in db.session.execute(
        select(User.id, User.name, User.email).order_by(User.name))]
    return FilterChoices(periods, areas, contributions, users,
                         distinct_values("actor_organisation"), distinct_values("action"))


@dataclass
class LogView:
    page: EventPage
    choices: FilterChoices
    event_filter: EventFilter


def browse_log(actor: Actor, event_filter: EventFilter, *, before_seq: int | None = None,
               after_seq: int | None = None, size: int = PAGE_SIZE) -> LogView:
    """The audit log page for an auditor: checks, records the read, returns plain data."""
    require_auditor(actor)
    page = events_page(event_filter, before_seq=before_seq, after_seq=after_seq, size=size)
    described = event_filter.described()
    record_view(actor, "log", filter=described or None, before_seq=before_seq,
                after_seq=after_seq)
    return LogView(page, filter_choices(), event_filter)


# -- revisions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RevisionInfo:
    id: int
    section_id: int
    number: int
    text: str
    cause: str
    author_name: str | None
    round: int
    created_at: datetime
    event_seq: int | None  # the section.edit event that recorded it, when there is one


@dataclass
class SectionInfo:
    id: int
    heading: str
    sort_key: Any
    current_text: str
    version: int
    revisions: list[RevisionInfo] = field(default_factory=list)

    def revision(self, number: int) -> RevisionInfo | None:
        return next((r for r in self.revisions if r.number == number), None)


@dataclass
class ContributionInfo:
    id: int
    title: str
    state: str
    period_id: int
    area_id: int
    area_name: str
    period_name: str
    created_at: datetime


def _contribution(contribution_id: int) -> Contribution:
    contribution = db.session.get(Contribution, contribution_id)
    if contribution is None:
        raise NotFound(Msg(N_("There is no contribution {id}."), id=contribution_id))
    return contribution


def _contribution_info(contribution: Contribution) -> ContributionInfo:
    return ContributionInfo(contribution.id, contribution.title, contribution.state,
                            contribution.period_id, contribution.area_id,
                            contribution.area.name, contribution.period.name,
                            contribution.created_at)


def _edit_event_seqs(contribution_id: int) -> dict[int, int]:
    """revision id -> seq of the section edit event that recorded it."""
    found: dict[int, int] = {}
    for seq, data in db.session.execute(
            select(EVENTS.c.seq, EVENTS.c.data)
            .where(EVENTS.c.contribution_id == contribution_id,
                   EVENTS.c.action.in_(EDIT_ACTIONS))):
        revision_id = json.loads(data).get("revision_id")
        if isinstance(revision_id, int):
            found[revision_id] = seq
    return found


def _sections(contribution: Contribution) -> list[SectionInfo]:
    event_seqs = _edit_event_seqs(contribution.id)
    sections = []
    for section in contribution.ordered_sections:
        info = SectionInfo(section.id, section.topic.heading, section.topic.sort_key,
                           section.text, section.version)
        for revision in db.session.scalars(
                select(SectionRevision).where(SectionRevision.section_id == section.id)
                .order_by(SectionRevision.number)):
            info.revisions.append(RevisionInfo(
                revision.id, section.id, revision.number, revision.text, revision.cause,
                revision.author.name if revision.author else None, revision.round,
                revision.created_at, event_seqs.get(revision.id)))
        sections.append(info)
    return sections


def revision_at(section: SectionInfo, *, seq: int | None = None,
                moment: datetime | None = None) -> RevisionInfo | None:
    """The revision that was current just before event `seq` (exact: revisions are ordered
    against events by the seq of the edit event that recorded them), or at `moment` (by
    the revision's time). A revision without an edit event falls back to its time."""
    current = None
    for revision in section.revisions:
        if seq is not None and revision.event_seq is not None:
            before = revision.event_seq < seq
        else:
            limit = moment
            if limit is None:
                continue
            before = revision.created_at <= limit
        if before and (current is None or revision.number > current.number):
            current = revision
    return current


@dataclass
class HistoryView:
    contribution: ContributionInfo
    events: list[Any]  # oldest first
    sections: list[SectionInfo]


def contribution_events(contribution_id: int) -> list[Any]:
    return db.session.execute(
        select(EVENTS).where(EVENTS.c.contribution_id == contribution_id)
        .order_by(EVENTS.c.seq)).all()


def contribution_history(actor: Actor, contribution_id: int) -> HistoryView:
    """Every event about a contribution and every revision of its sections."""
    require_auditor(actor)
    contribution = _contribution(contribution_id)
    view = HistoryView(_contribution_info(contribution), contribution_events(contribution.id),
                       _sections(contribution))
    record_view(actor, "contribution_history", **scope_of(contribution))
    return view


@dataclass
class CompareView:
    contribution: ContributionInfo
    section: SectionInfo
    before: RevisionInfo
    after: RevisionInfo
    segments: list[Segment]

    @property
    def changed(self) -> bool:
        return has_changes(self.segments)


def compare_revisions(actor: Actor, section_id: int, from_number: int,
                      to_number: int) -> CompareView:
    """A word diff between any two revisions of one section."""
    require_auditor(actor)
    section = db.session.get(Section, section_id)
    if section is None:
        raise NotFound(Msg(N_("There is no section {id}."), id=section_id))
    contribution = section.contribution
    info = next(s for s in _sections(contribution) if s.id == section_id)
    before, after = info.revision(from_number), info.revision(to_number)
    for number, found in ((from_number, before), (to_number, after)):
        if found is None:
            raise NotFound(Msg(N_("The section has no revision {number}."), number=number))
    view = CompareView(_contribution_info(contribution), info, before, after,
                       word_diff(before.text, after.text))
    record_view(actor, "compare", section_id=section_id, revisions=[from_number, to_number],
                **scope_of(contribution))
    return view


# -- as of a moment -------------------------------------------------------------------------

@dataclass
class AsOfView:
    contribution: ContributionInfo
    moment: datetime
    existed: bool
    state: str | None
    sections: list[tuple[SectionInfo, RevisionInfo | None]]
    last_event: Any | None


def state_at(contribution: Contribution, moment: datetime) -> tuple[str | None, Any | None]:
    """The contribution's state at `moment`: the to_state of its last state event by then."""
    event = db.session.execute(
        select(EVENTS).where(EVENTS.c.contribution_id == contribution.id,
                             EVENTS.c.object_type == "contribution",
                             EVENTS.c.to_state.is_not(None),
                             EVENTS.c.occurred_at <= moment)
        .order_by(EVENTS.c.seq.desc()).limit(1)).first()
    if event is not None:
        return event.to_state, event
    return ("draft" if contribution.created_at <= moment else None), None


def contribution_as_of(actor: Actor, contribution_id: int, moment: datetime) -> AsOfView:
    """The whole contribution as it stood at `moment`: each section's revision current then."""
    require_auditor(actor)
    contribution = _contribution(contribution_id)
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    state, event = state_at(contribution, moment)
    sections = [(s, revision_at(s, moment=moment)) for s in _sections(contribution)]
    last_event = db.session.execute(
        select(EVENTS).where(EVENTS.c.contribution_id == contribution.id,
                             EVENTS.c.occurred_at <= moment)
        .order_by(EVENTS.c.seq.desc()).limit(1)).first()
    view = AsOfView(_contribution_info(contribution), moment,
                    contribution.created_at <= moment, state, sections, last_event)
    record_view(actor, "as_of", at=moment.astimezone(UTC).isoformat(),
                **scope_of(contribution))
    return view


# -- provenance -----------------------------------------------------------------------------

@dataclass
class Step:
    """Who did one step of the flow, and when."""

    action: str
    actor_name: str | None
    actor_organisation: str | None
    occurred_at: datetime
    seq: int
    data: dict


@dataclass
class SectionProvenance:
    section: SectionInfo
    approved: RevisionInfo | None  # the revision approved (or current, if not approved yet)
    approved_version: int | None  # the section version recorded by the finalize event
    reviewed: RevisionInfo | None  # the revision the police approved
    drafters: list[str]
    consolidation_edits: list[RevisionInfo]  # revisions after the police review
    segments: list[Segment]  # reviewed -> approved

    @property
    def changed_after_review(self) -> bool:
        return (self.reviewed is not None and self.approved is not None
                and self.reviewed.id != self.approved.id and has_changes(self.segments))


@dataclass
class ProvenanceView:
    contribution: ContributionInfo
    approved: bool
    finalized: Step | None
    consolidation_approved: Step | None
    reviewed: Step | None
    consolidated: Step | None
    submissions: list[Step]
    returns: list[Step]
    drafters: list[str]
    sections: list[SectionProvenance]

    @property
    def changed_after_review(self) -> bool:
        return any(s.changed_after_review for s in self.sections)


def _step(row: Any) -> Step:
    return Step(row.action, row.actor_name, row.actor_organisation, row.occurred_at, row.seq,
                json.loads(row.data))


def _last(events: list[Any], action: str, before_seq: int | None = None) -> Any | None:
    found = [e for e in events if e.action == action
             and (before_seq is None or e.seq < before_seq)]
    return found[-1] if found else None


def provenance(actor: Actor, contribution_id: int) -> ProvenanceView:
    """Which revision of each section was approved; who drafted, reviewed, consolidated and
    approved it, and when; and whether any text changed after the police's review."""
    require_auditor(actor)
    contribution = _contribution(contribution_id)
    events = contribution_events(contribution.id)
    sections = _sections(contribution)
    finalize = _last(events, "contribution.finalize")
    end_seq = finalize.seq if finalize is not None else None
    review = _last(events, "contribution.approve", end_seq)
    consolidate = _last(events, "contribution.consolidate", end_seq)
    consolidation_approved = None
    if finalize is not None:
        consolidation_approved = db.session.execute(
            select(EVENTS).where(EVENTS.c.period_id == contribution.period_id,
                                 EVENTS.c.action == "consolidation.approve",
                                 EVENTS.c.seq > finalize.seq)
            .order_by(EVENTS.c.seq).limit(1)).first()
    recorded_versions = json.loads(finalize.data).get("sections", {}) if finalize else {}
    section_views = []
    for section in sections:
        approved = (revision_at(section, seq=finalize.seq, moment=finalize.occurred_at)
                    if finalize is not None
                    else (section.revisions[-1] if section.revisions else None))
        reviewed = (revision_at(section, seq=review.seq, moment=review.occurred_at)
                    if review is not None else None)
        after_review = [r for r in section.revisions
                        if reviewed is not None and approved is not None
                        and reviewed.number < r.number <= approved.number]
        drafters = sorted({r.author_name for r in section.revisions
                           if r.cause == "edit" and r.author_name
                           and (approved is None or r.number <= approved.number)})
        segments = (word_diff(reviewed.text, approved.text)
                    if reviewed is not None and approved is not None else [])
        section_views.append(SectionProvenance(
            section, approved, recorded_versions.get(str(section.id)), reviewed, drafters,
            after_review, segments))
    view = ProvenanceView(
        _contribution_info(contribution), finalize is not None,
        _step(finalize) if finalize else None,
        _step(consolidation_approved) if consolidation_approved else None,
        _step(review) if review else None, _step(consolidate) if consolidate else None,
        [_step(e) for e in events if e.action in ("contribution.submit", "contribution.resubmit")
         and (end_seq is None or e.seq < end_seq)],
        [_step(e) for e in events if e.action in ("contribution.return", "contribution.reopen")
         and (end_seq is None or e.seq < end_seq)],
        sorted({name for s in section_views for name in s.drafters}),
        section_views)
    record_view(actor, "provenance", **scope_of(contribution))
    return view


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(EVENTS)) or 0
