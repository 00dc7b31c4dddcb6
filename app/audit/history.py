"""A contribution's history for auditors: every event and revision, revision comparison, the
contribution "as of" a moment, and the provenance of what was approved. Every read is itself an
`audit.view` event (query.record_view)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import joinedload

from app.audit.labels import object_names
from app.audit.policy import require_auditor
from app.audit.query import EVENTS, record_view
from app.audit.trail import scope_of
from app.core import paging
from app.core.actors import Actor
from app.core.diff import Segment, has_changes, word_diff
from app.core.errors import NotFound
from app.core.messages import N_, Msg
from app.core.paging import cursor
from app.extensions import db
from app.models import Contribution, Section, SectionRevision, Topic, User

EDIT_ACTIONS = ("section.edit", "section.consolidation_edit")
EDIT_CAUSES = ("edit", "consolidation_edit")  # the revisions an edit event records


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


@dataclass
class SectionInfo:
    id: int
    heading: str
    sort_key: Any
    current_text: str
    version: int
    revisions: list[RevisionInfo] = field(default_factory=list)
    revision_count: int = 0  # in all (revisions may hold only the newest of them)

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


def _numbers_before(contribution: Contribution, event: Any) -> dict[int, int]:
    """section id -> the number of its revision current just before `event`. An edited
    revision is placed by the seq of the edit event that recorded it (exact, even within one
    second); one no edit event records (imported, carried forward) by its time. Two grouped
    queries, one row per section, however long the history."""
    numbers: dict[int, int] = {}
    last_edit = (select(func.max(EVENTS.c.seq))
                 .where(EVENTS.c.contribution_id == contribution.id,
                        EVENTS.c.action.in_(EDIT_ACTIONS), EVENTS.c.seq < event.seq)
                 .group_by(EVENTS.c.object_id))
    for section_id, data in db.session.execute(
            select(EVENTS.c.object_id, EVENTS.c.data).where(EVENTS.c.seq.in_(last_edit))):
        number = json.loads(data).get("revision_number")
        if isinstance(number, int):
            numbers[int(section_id)] = number
    for section_id, number in db.session.execute(
            select(SectionRevision.section_id, func.max(SectionRevision.number))
            .join(Section, Section.id == SectionRevision.section_id)
            .where(Section.contribution_id == contribution.id,
                   SectionRevision.cause.not_in(EDIT_CAUSES),
                   SectionRevision.created_at <= event.occurred_at)
            .group_by(SectionRevision.section_id)):
        numbers[section_id] = max(numbers.get(section_id, 0), number)
    return numbers


def _sections(contribution: Contribution, *, newest: int | None = None,
              until: datetime | None = None, only: int | None = None,
              numbers: tuple[int, ...] | None = None,
              where: Any = None) -> list[SectionInfo]:
    """The sections (`only`: just that one) with their revisions: every one, or only those
    created by `until`, or only `numbers`; of those only each section's newest `newest`
    (ranked in the database); and how many each has in all. The sections with their topics in
    one query, the revisions with their authors' names in another (never one per section), so
    a page that shows one revision per section reads one per section however long the history.
    `where`: a further condition on the revisions."""
    chosen = [Section.contribution_id == contribution.id]
    if only is not None:
        chosen.append(Section.id == only)
    found = db.session.scalars(
        select(Section).where(*chosen).options(joinedload(Section.topic))).unique().all()
    # Headings and order as the lägesbild shows them: as approved once approved.
    sections = {section.id: SectionInfo(section.id, section.heading,
                                        (section.approved_position is None,
                                         section.approved_position or 0, section.topic.sort_key),
                                        section.text, section.version)
                for section in found}
    of_sections = SectionRevision.section_id.in_(list(sections))
    for section_id, count in db.session.execute(
            select(SectionRevision.section_id, func.count()).where(of_sections)
            .group_by(SectionRevision.section_id)):
        sections[section_id].revision_count = count
    wanted = [of_sections]
    if until is not None:
        wanted.append(SectionRevision.created_at <= until)
    if numbers is not None:
        wanted.append(SectionRevision.number.in_(numbers))
    if where is not None:
        wanted.append(where)
    if newest is not None:
        rank = func.row_number().over(partition_by=SectionRevision.section_id,
                                      order_by=SectionRevision.number.desc()).label("rank")
        ranked = select(SectionRevision.id, rank).where(*wanted).subquery()
        wanted = [SectionRevision.id.in_(select(ranked.c.id).where(ranked.c.rank <= newest))]
    for revision, author_name in db.session.execute(
            select(SectionRevision, User.name)
            .outerjoin(User, SectionRevision.author_id == User.id)
            .where(*wanted)
            .order_by(SectionRevision.section_id, SectionRevision.number)):
        sections[revision.section_id].revisions.append(RevisionInfo(
            revision.id, revision.section_id, revision.number, revision.text, revision.cause,
            author_name, revision.round, revision.created_at))
    return sorted(sections.values(), key=lambda info: info.sort_key)


# The history page: a page of events at a time, and each section's newest revisions (older
# ones are compared by number or seen "as of"), so a long history stays a small page.
HISTORY_PAGE_SIZE = 50
NEWEST_REVISIONS = 10


@dataclass
class HistoryView:
    contribution: ContributionInfo
    events: list[Any]  # oldest first (of the page)
    sections: list[SectionInfo]
    names: dict[tuple[str, str], str] = field(default_factory=dict)  # objects by name
    page: paging.Page | None = None  # the events' page (app.core.paging), newest first


def contribution_events(contribution_id: int, *, leaving_out: tuple[str, ...] = ()) -> list[Any]:
    return db.session.execute(
        select(EVENTS).where(EVENTS.c.contribution_id == contribution_id,
                             EVENTS.c.action.not_in(leaving_out))
        .order_by(EVENTS.c.seq)).all()


def contribution_events_page(contribution_id: int, *, before: paging.Key | None = None,
                             after: paging.Key | None = None, last: bool = False,
                             size: int = HISTORY_PAGE_SIZE) -> paging.Page:
    """One page of the events about a contribution, newest page first (keyset on seq)."""
    about = EVENTS.c.contribution_id == contribution_id

    def fetch(conditions, newest_first, limit):
        order = EVENTS.c.seq.desc() if newest_first else EVENTS.c.seq.asc()
        return list(db.session.execute(select(EVENTS).where(about, *conditions)
                                       .order_by(order).limit(limit)))

    def exists(conditions):
        return db.session.scalar(select(EVENTS.c.seq).where(about, *conditions)
                                 .limit(1)) is not None

    return paging.keyset_page(fetch, exists, [EVENTS.c.seq], lambda row: (row.seq,),
                              before=before, after=after, last=last, size=size)


def contribution_history(actor: Actor, contribution_id: int, *,
                         before: paging.Key | None = None, after: paging.Key | None = None,
                         last: bool = False) -> HistoryView:
    """A page of the events about a contribution and each section's newest revisions."""
    require_auditor(actor)
    contribution = _contribution(contribution_id)
    page = contribution_events_page(contribution.id, before=before, after=after, last=last)
    events = list(reversed(page.items))
    view = HistoryView(_contribution_info(contribution), events,
                       _sections(contribution, newest=NEWEST_REVISIONS), object_names(events),
                       page)
    record_view(actor, "contribution_history", **scope_of(contribution),
                before=cursor(before), after=cursor(after), last=last or None)
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
    info, = _sections(contribution, only=section_id, numbers=(from_number, to_number))
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
    sections = [(s, s.revisions[-1] if s.revisions else None)
                for s in _sections(contribution, newest=1, until=moment)]
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
class LinkChange:
    """A cross-reference set, changed or removed: what the section says changed, though its
    text (and so its revision) did not."""

    step: Step
    before: str | None  # the local topic's title, None: no cross-reference
    after: str | None

    @property
    def before_id(self) -> int | None:
        return self.step.data.get("previous_handled_in_topic_id")

    @property
    def after_id(self) -> int | None:
        return self.step.data.get("handled_in_topic_id")


@dataclass
class SectionProvenance:
    section: SectionInfo
    approved: RevisionInfo | None  # the revision approved (or current, if not approved yet)
    approved_version: int | None  # the section version recorded by the finalize event
    reviewed: RevisionInfo | None  # the revision the police approved
    drafters: list[str]
    consolidation_edits: list[RevisionInfo]  # revisions after the police review
    segments: list[Segment]  # reviewed -> approved
    link_changes: list[LinkChange] = field(default_factory=list)  # after the police review

    @property
    def text_changed_after_review(self) -> bool:
        return (self.reviewed is not None and self.approved is not None
                and self.reviewed.id != self.approved.id and has_changes(self.segments))

    @property
    def link_changed_after_review(self) -> bool:
        return bool(self.link_changes) and \
            self.link_changes[0].before_id != self.link_changes[-1].after_id

    @property
    def changed_after_review(self) -> bool:
        return self.text_changed_after_review or self.link_changed_after_review


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
    # Excluded from the consolidation or included again after the police review.
    exclusions: list[Step] = field(default_factory=list)
    imported: Step | None = None  # the document.import event: approved outside the system

    @property
    def changed_after_review(self) -> bool:
        return bool(self.exclusions) or any(s.changed_after_review for s in self.sections)


def _step(row: Any) -> Step:
    return Step(row.action, row.actor_name, row.actor_organisation, row.occurred_at, row.seq,
                json.loads(row.data))


def _last(events: list[Any], action: str, before_seq: int | None = None) -> Any | None:
    found = [e for e in events if e.action == action
             and (before_seq is None or e.seq < before_seq)]
    return found[-1] if found else None


def _topic_title(topic_id: int | None) -> str | None:
    topic = db.session.get(Topic, topic_id) if topic_id is not None else None
    return topic.title if topic is not None else None


def _link_changes(events: list[Any], section_id: int, after_seq: int,
                  before_seq: int | None) -> list[LinkChange]:
    """The section's cross-reference changes between two events (the review, the approval)."""
    changes = []
    for event in events:
        if (event.action != "section.cross_reference" or event.object_id != str(section_id)
                or event.seq <= after_seq or (before_seq is not None and event.seq >= before_seq)):
            continue
        step = _step(event)
        changes.append(LinkChange(step, _topic_title(step.data.get("previous_handled_in_topic_id")),
                                  step.data.get("handled_in_topic")))
    return changes


def provenance(actor: Actor, contribution_id: int) -> ProvenanceView:
    """Which revision of each section was approved; who drafted, reviewed, consolidated and
    approved it, and when; and whether what it says changed after the police's review (a
    text, a cross-reference, an exclusion); or that it was imported, not approved here.
    Reads the flow's events (not the edits) and, per section, only the revisions it shows:
    the first, the reviewed, those after the review up to the approved one."""
    require_auditor(actor)
    contribution = _contribution(contribution_id)
    events = contribution_events(contribution.id, leaving_out=EDIT_ACTIONS)
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
    approved_numbers = (_numbers_before(contribution, finalize) if finalize is not None
                        else _newest_numbers(contribution))
    reviewed_numbers = _numbers_before(contribution, review) if review is not None else {}
    shown = [and_(SectionRevision.section_id == section_id,
                  or_(SectionRevision.number == 1,
                      SectionRevision.number.between(reviewed_numbers.get(section_id, number),
                                                     number)))
             for section_id, number in approved_numbers.items()]
    sections = _sections(contribution, where=or_(false(), *shown))
    drafters_of = _drafters(contribution, approved_numbers)
    section_views = []
    for section in sections:
        approved = section.revision(approved_numbers.get(section.id, 0))
        reviewed = section.revision(reviewed_numbers.get(section.id, 0))
        after_review = [r for r in section.revisions
                        if reviewed is not None and approved is not None
                        and reviewed.number < r.number <= approved.number]
        segments = (word_diff(reviewed.text, approved.text)
                    if reviewed is not None and approved is not None else [])
        section_views.append(SectionProvenance(
            section, approved, recorded_versions.get(str(section.id)), reviewed,
            drafters_of.get(section.id, []), after_review, segments,
            _link_changes(events, section.id, review.seq, end_seq) if review else []))
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
        section_views,
        [_step(e) for e in events if review is not None
         and e.action in ("contribution.exclude", "contribution.include")
         and e.seq > review.seq and (end_seq is None or e.seq < end_seq)],
        next((_step(e) for e in events if e.action == "document.import"), None))
    record_view(actor, "provenance", **scope_of(contribution))
    return view


def _newest_numbers(contribution: Contribution) -> dict[int, int]:
    """section id -> its newest revision's number (what is current)."""
    return dict(db.session.execute(
        select(SectionRevision.section_id, func.max(SectionRevision.number))
        .join(Section, Section.id == SectionRevision.section_id)
        .where(Section.contribution_id == contribution.id)
        .group_by(SectionRevision.section_id)).all())


def _drafters(contribution: Contribution, approved_numbers: dict[int, int]) -> dict[int, list[str]]:
    """section id -> who drafted it (an edit, not the coordinator's wording) up to the approved
    revision: each author once, with the first revision they wrote."""
    found: dict[int, set[str]] = {}
    for section_id, name, first in db.session.execute(
            select(SectionRevision.section_id, User.name, func.min(SectionRevision.number))
            .join(User, SectionRevision.author_id == User.id)
            .join(Section, Section.id == SectionRevision.section_id)
            .where(Section.contribution_id == contribution.id, SectionRevision.cause == "edit")
            .group_by(SectionRevision.section_id, User.name)):
        if first <= approved_numbers.get(section_id, 0):
            found.setdefault(section_id, set()).add(name)
    return {section_id: sorted(names) for section_id, names in found.items()}
