"""A contribution's history for auditors: every event and revision, revision comparison, the
contribution "as of" a moment, and the provenance of what was approved. Every read is itself an
`audit.view` event (query.record_view)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
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


def _sections(contribution: Contribution, newest: int | None = None) -> list[SectionInfo]:
    """Every section with every revision (`newest`: only each section's newest that many,
    and how many it has in all): the sections with their topics in one query, the revisions
    with their authors' names in another (never one per section)."""
    event_seqs = _edit_event_seqs(contribution.id)
    found = db.session.scalars(
        select(Section).where(Section.contribution_id == contribution.id)
        .options(joinedload(Section.topic))).unique().all()
    # Headings and order as the lägesbild shows them: as approved once approved.
    sections = {section.id: SectionInfo(section.id, section.heading,
                                        (section.approved_position is None,
                                         section.approved_position or 0, section.topic.sort_key),
                                        section.text, section.version)
                for section in found}
    wanted = SectionRevision.section_id.in_(list(sections))
    for section_id, count in db.session.execute(
            select(SectionRevision.section_id, func.count()).where(wanted)
            .group_by(SectionRevision.section_id)):
        sections[section_id].revision_count = count
    if newest is not None:  # each section's newest revisions only, ranked in the database
        rank = func.row_number().over(partition_by=SectionRevision.section_id,
                                      order_by=SectionRevision.number.desc()).label("rank")
        ranked = select(SectionRevision.id, rank).where(wanted).subquery()
        wanted = SectionRevision.id.in_(select(ranked.c.id).where(ranked.c.rank <= newest))
    for revision, author_name in db.session.execute(
            select(SectionRevision, User.name)
            .outerjoin(User, SectionRevision.author_id == User.id)
            .where(wanted)
            .order_by(SectionRevision.section_id, SectionRevision.number)):
        sections[revision.section_id].revisions.append(RevisionInfo(
            revision.id, revision.section_id, revision.number, revision.text, revision.cause,
            author_name, revision.round, revision.created_at, event_seqs.get(revision.id)))
    return sorted(sections.values(), key=lambda info: info.sort_key)


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


def contribution_events(contribution_id: int) -> list[Any]:
    return db.session.execute(
        select(EVENTS).where(EVENTS.c.contribution_id == contribution_id)
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
    text, a cross-reference, an exclusion); or that it was imported, not approved here."""
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
            after_review, segments,
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
